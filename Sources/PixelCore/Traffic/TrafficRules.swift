/// The classification table, compiled in: each rule's test, the class it
/// gives and where its fact is published. The first rule that matches a
/// hit classes it; a hit none matches is `human`. docs/traffic.md's table
/// is `markdownTable`, which a test keeps equal, and a
/// marked event names its rule in `context.traffic.rule`.
///
/// Order matters: a browser's prefetch is a prefetch whatever its agent;
/// mail proxies come before crawlers (their agents mention no crawler, but
/// a mail proxy is the more useful answer); a browser whose agent happens
/// to contain a crawler word is named before the crawler words.
public enum TrafficRules {
    public static let all: [TrafficRule] = [
        // Browsers fetching ahead of a navigation. These carry a real
        // browser's agent, so they are tried first.
        TrafficRule("sec-purpose-prefetch", .prefetch, .headerToken(.secPurpose, "prefetch"),
                    source: "Fetch standard's `Sec-Purpose` (https://fetch.spec.whatwg.org/#sec-purpose-header): Firefox 115+ on `<link rel=prefetch>`; Chromium on speculation-rules prefetch, prerender (`prefetch;prerender`, also on the prerendering page's images) and its prefetch proxy"),
        TrafficRule("purpose-prefetch", .prefetch, .headerToken(.purpose, "prefetch"),
                    source: "Chromium's `Purpose: prefetch` on `<link rel=prefetch>` and speculation rules (blink `resource_request_utils.cc`; MDN, Speculation Rules API)"),
        TrafficRule("x-moz-prefetch", .prefetch, .headerToken(.xMoz, "prefetch"),
                    source: "Firefox before 115, `X-moz: prefetch` (MDN, Link prefetching FAQ)"),
        TrafficRule("purpose-preview", .prefetch, .headerToken(.purpose, "preview"),
                    source: "WebKit's `Purpose: preview` (WebKit bugs 46529, 47802)"),
        TrafficRule("x-purpose-preview", .prefetch, .headerToken(.xPurpose, "preview"),
                    source: "Safari's Top Sites thumbnails, `X-Purpose: preview` (WebKit bug 46529)"),

        // Mail providers fetching images for their users. Their agents may
        // name a browser (Gmail's says Firefox 11), so they come next.
        TrafficRule("gmail-image-proxy", .mailProxy, .userAgentContains(["GoogleImageProxy"]),
                    source: "Gmail's image proxy, agent `… Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)` (https://gmail.googleblog.com/2013/12/images-now-showing.html; device-detector `bots.yml`)"),
        TrafficRule("yahoo-mail-proxy", .mailProxy, .userAgentContains(["YahooMailProxy"]),
                    source: "Yahoo Mail's image proxy, agent `YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html`"),
        TrafficRule("apple-mail-privacy-protection", .mailProxy, .userAgentIs("Mozilla/5.0"),
                    source: "Apple Mail Privacy Protection loads remote content on delivery with the bare agent `Mozilla/5.0` (ua-parser/uap-core issue 509); it leaves through iCloud Private Relay's egress addresses, which Safari users share, so no address range tells it apart"),
        TrafficRule("fastmail-image-proxy", .mailProxy, .userAgentContains(["FastmailUA"]),
                    source: "Fastmail's image proxy, a Chrome agent ending `FastmailUA/1.0` (https://www.fastmail.com/policies/bots/)"),
        TrafficRule("seznam-email-proxy", .mailProxy, .userAgentContains(["SeznamEmailProxy"]),
                    source: "Seznam.cz mail's image proxy (device-detector `bots.yml`)"),
        TrafficRule("rambler-mail-proxy", .mailProxy, .userAgentContains(["RamblerMail"]),
                    source: "Rambler mail's image proxy, `RamblerMail/6.0 (incompatible; ImageProxy/6.0)` (device-detector `bots.yml`)"),
        TrafficRule("ukr-net-mail-proxy", .mailProxy, .userAgentContains(["via secureurl.fwdcdn.com"]),
                    source: "ukr.net mail's image proxy (device-detector `bots.yml`)"),

        // Every browser sends a User-Agent; a fetch without one is a
        // program's (a scanner's HEAD-less GET, a script).
        TrafficRule("no-user-agent", .bot, .userAgentMissing,
                    source: "browsers always send `User-Agent` (RFC 9110 §10.1.5: a user agent SHOULD send it; every browser does); mail security scanners and scripts fetching images often send none"),

        // Crawlers, link previewers and scanners, by name.
        TrafficRule("google-crawler", .bot, .userAgentContains(["Googlebot", "Google-InspectionTool", "AdsBot-Google", "Mediapartners-Google", "GoogleOther", "Storebot-Google", "FeedFetcher-Google", "Google-Read-Aloud", "Google Web Preview"]),
                    source: "Google's crawlers (https://developers.google.com/search/docs/crawling-indexing/overview-google-crawlers)"),
        TrafficRule("bing-crawler", .bot, .userAgentContains(["bingbot", "BingPreview", "adidxbot"]),
                    source: "Bing's crawlers (https://www.bing.com/webmasters/help/which-crawlers-does-bing-use-8c184ec0)"),
        TrafficRule("applebot", .bot, .userAgentContains(["Applebot"]),
                    source: "Applebot (https://support.apple.com/en-us/119829)"),
        TrafficRule("duckduckbot", .bot, .userAgentContains(["DuckDuckBot", "DuckAssistBot", "DuckDuckGo-Favicons-Bot"]),
                    source: "DuckDuckGo's crawlers (https://duckduckgo.com/duckduckbot.html); its browser says `DuckDuckGo/7` and is a person's"),
        TrafficRule("yandex-crawler", .bot, .userAgentContains(["YandexBot", "yandex.com/bots"]),
                    source: "Yandex's robots (https://yandex.com/support/webmaster/robot-workings/check-yandex-robots.html)"),
        TrafficRule("baiduspider", .bot, .userAgentContains(["Baiduspider"]),
                    source: "Baidu's spider (https://www.baidu.com/search/spider.html)"),
        TrafficRule("meta-crawler", .bot, .userAgentContains(["facebookexternalhit", "Facebot", "meta-externalagent", "facebookcatalog"]),
                    source: "Meta's crawlers (https://developers.facebook.com/docs/sharing/webmasters/web-crawlers); iMessage's link preview borrows these words; Facebook's in-app browser does not"),
        TrafficRule("link-preview", .bot, .userAgentContains(["Twitterbot", "LinkedInBot", "Slackbot", "Slack-ImgProxy", "Discordbot", "TelegramBot", "WhatsApp/", "SkypeUriPreview", "redditbot", "Yahoo Link Preview", "MicrosoftPreview"]),
                    source: "link previews of X, LinkedIn, Slack (https://api.slack.com/robots), Discord, Telegram, WhatsApp, Skype and Reddit (monperrus/crawler-user-agents), Yahoo Mail's (https://help.yahoo.com/kb/mail/yahoo-link-preview-SLN23615.html) and Microsoft's, `MicrosoftPreview` (named in its agent, https://aka.ms/MicrosoftPreview; Bing's list of its crawlers: page snapshots for Microsoft's products, whose link previews in Outlook and Teams it fetches)"),
        TrafficRule("ai-crawler", .bot, .userAgentContains(["GPTBot", "ChatGPT-User", "OAI-SearchBot", "ClaudeBot", "Claude-User", "PerplexityBot", "CCBot", "Bytespider"]),
                    source: "AI crawlers (https://platform.openai.com/docs/bots; Anthropic's, Perplexity's, Common Crawl's and ByteDance's crawler pages)"),
        TrafficRule("seo-crawler", .bot, .userAgentContains(["AhrefsBot", "AhrefsSiteAudit", "SemrushBot", "MJ12bot", "DotBot", "PetalBot"]),
                    source: "SEO crawlers (https://ahrefs.com/robot, https://www.semrush.com/bot/, Majestic, Moz, Huawei Petal)"),
        TrafficRule("headless-browser", .bot, .userAgentContains(["HeadlessChrome", "Chrome-Lighthouse", "PhantomJS", "Google Page Speed Insights"]),
                    source: "browsers driven by programs: headless Chrome names itself `HeadlessChrome/…` (https://developer.chrome.com/docs/chromium/headless), Lighthouse and PageSpeed Insights `Chrome-Lighthouse` (https://developer.chrome.com/docs/lighthouse), PhantomJS `PhantomJS/…`"),
        TrafficRule("scripted-client", .bot, .userAgentContains(["curl/", "Wget/", "python-requests/", "Python-urllib/", "python-httpx/", "aiohttp/", "Go-http-client/", "axios/", "node-fetch", "Java-http-client/", "Apache-HttpClient/", "libwww-perl/", "HTTPie/", "PostmanRuntime/", "Faraday v", "GuzzleHttp/", "Scrapy/"]),
                    source: "HTTP libraries and tools under their default agents: curl (https://curl.se/docs/manpage.html#-A), Wget, Python's requests, urllib, httpx and aiohttp, Go's net/http, axios, node-fetch, Java's HttpClient, Apache HttpClient, libwww-perl, HTTPie, Postman, Faraday, Guzzle, Scrapy (monperrus/crawler-user-agents); not OkHttp or Dart, whose default agents are also those of people's Android and Flutter apps"),
        TrafficRule("mail-link-scanner", .bot, .userAgentContains(["Barracuda Sentinel"]),
                    source: "Barracuda's e-mail link scanner (device-detector fixtures); other scanners (Mimecast, Proofpoint, Safe Links) borrow browsers' agents and cannot be told by it"),

        // Scanners that borrow a browser's agent, told by the published
        // addresses they come from: no person browses from these.
        TrafficRule("microsoft-mail-scanner", .bot, .addressIn("microsoft-exchange-online-protection"),
                    source: "Exchange Online Protection's servers, which Microsoft publishes (https://learn.microsoft.com/en-us/microsoft-365/enterprise/urls-and-ip-address-ranges, sets 9 and 10) and whose filtering checks the links of mail on delivery (Safe Links: https://learn.microsoft.com/en-us/defender-office-365/safe-links-about); mail servers, from which no person browses"),
        TrafficRule("google-crawler-address", .bot, .addressIn("google-crawlers"),
                    source: "Google's crawlers and special-case crawlers, Google-Safety among them, from their published ranges whatever agent they send (https://developers.google.com/crawling/docs/crawlers-fetchers/verifying-googlebot)"),

        // A phone brand that contains a crawler word, before those words.
        TrafficRule("cubot-phone", .human, .userAgentContains(["CUBOT"]),
                    source: "CUBOT Android phones name their model in the agent (`CUBOT_X30`, `Cubot X50`; device-detector fixtures, isbot's browser list)"),
        // Any other crawler that says so.
        TrafficRule("crawler-word", .bot, .userAgentContains(["bot", "crawler", "spider"]),
                    source: "the words RudderStack's gateway counts as bot agents (rudder-server `gateway/internal/bot`)"),
    ]

    /// docs/traffic.md's table: one row per rule, in the order they are tried.
    public static var markdownTable: String {
        var lines = ["| rule | class | matches | source |", "|---|---|---|---|"]
        for rule in all {
            lines.append("| `\(rule.id)` | \(rule.hitClass.rawValue) | \(rule.testDescription) | \(rule.source) |")
        }
        return lines.joined(separator: "\n")
    }
}
