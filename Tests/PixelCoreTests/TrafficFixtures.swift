// Real request header sets for the traffic classifier tests, each with the
// public source it was taken from.

/// One real request's headers, where they were seen, and the class pixelgate must give it.
struct TrafficFixture: Sendable {
    let name: String        // short, unique, e.g. "gmail-image-proxy"
    let source: String      // where this header set / user agent is documented or was captured (URL or document name)
    let expected: String    // "human", "mail-proxy", "prefetch" or "bot"
    let remoteAddr: String  // client IPv4/IPv6 as the web server sees it
    let headers: [(String, String)]  // HTTP header name and value, as sent
}

enum TrafficFixtures {
    static let all: [TrafficFixture] = [
        // MARK: mail-proxy
        TrafficFixture(
            name: "gmail-image-proxy",
            source: "https://www.scientiamobile.com/what-is-google-image-proxy/ ; monperrus/crawler-user-agents crawler-user-agents.json (pattern GoogleImageProxy) ; matomo-org/device-detector regexes/bots.yml 'Gmail Image Proxy'",
            expected: "mail-proxy",
            remoteAddr: "66.249.84.14",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"),
            ]
        ),
        TrafficFixture(
            name: "gmail-image-proxy-74-125",
            source: "https://www.scientiamobile.com/what-is-google-image-proxy/ ; faisalman/ua-parser-js issue #494 (same UA; address from another Google block)",
            expected: "mail-proxy",
            remoteAddr: "74.125.212.33",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"),
            ]
        ),
        TrafficFixture(
            name: "yahoo-mail-proxy",
            source: "https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html (linked from the UA itself) ; monperrus/crawler-user-agents ; matomo-org/device-detector Tests/fixtures/bots.yml",
            expected: "mail-proxy",
            remoteAddr: "98.137.20.5",
            headers: [
                ("User-Agent", "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"),
            ]
        ),
        TrafficFixture(
            name: "apple-mpp-proxy",
            source: "https://github.com/ua-parser/uap-core/issues/509 (MPP forces UA exactly 'Mozilla/5.0', since 2021-09-20) ; https://wordtothewise.com/2021/09/apple-mpp-reporting-and-geolocation/",
            expected: "mail-proxy",
            remoteAddr: "17.58.63.10",
            headers: [
                ("User-Agent", "Mozilla/5.0"),
            ]
        ),
        TrafficFixture(
            name: "apple-mpp-proxy-relay-egress",
            source: "https://github.com/ua-parser/uap-core/issues/509 ; https://wordtothewise.com/2021/09/apple-mpp-reporting-and-geolocation/ (MPP loads egress via iCloud Private Relay infrastructure, whose egress operators are not Apple; address here is a documentation-range stand-in, NOT in 17.0.0.0/8, so the rule must key on the bare UA)",
            expected: "mail-proxy",
            remoteAddr: "203.0.113.77",
            headers: [
                ("User-Agent", "Mozilla/5.0"),
            ]
        ),
        TrafficFixture(
            name: "seznam-email-proxy",
            source: "matomo-org/device-detector regexes/bots.yml 'Seznam Email Proxy' + Tests/fixtures/bots.yml",
            expected: "mail-proxy",
            remoteAddr: "77.75.79.32",
            headers: [
                ("User-Agent", "Mozilla/5.0 SeznamEmailProxy/2.0.174"),
            ]
        ),
        TrafficFixture(
            name: "rambler-mail-image-proxy",
            source: "matomo-org/device-detector regexes/bots.yml 'RamblerMail Image Proxy' + Tests/fixtures/bots.yml",
            expected: "mail-proxy",
            remoteAddr: "81.19.88.101",
            headers: [
                ("User-Agent", "RamblerMail/6.0 (incompatible; ImageProxy/6.0)"),
            ]
        ),
        TrafficFixture(
            name: "ukrnet-mail-proxy",
            source: "matomo-org/device-detector regexes/bots.yml 'UkrNet Mail Proxy' (regex 'via secureurl\\.fwdcdn\\.com') + Tests/fixtures/bots.yml",
            expected: "mail-proxy",
            remoteAddr: "198.51.100.61",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/55.0.2883.87 Safari/537.36 (via secureurl.fwdcdn.com - mail.ukr.net proxy)"),
            ]
        ),
        // MARK: prefetch
        TrafficFixture(
            name: "chrome-link-rel-prefetch",
            source: "Chromium third_party/blink/renderer/platform/loader/fetch/resource_request_utils.cc (kLinkPrefetch -> SetPurposeHeader(\"prefetch\")) ; mdn/browser-compat-data http/headers/Sec-Purpose.json (Chrome uses legacy 'Purpose: prefetch', crbug 1358419) ; WHATWG html issue #11294",
            expected: "prefetch",
            remoteAddr: "192.0.2.10",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"),
                ("Purpose", "prefetch"),
                ("Sec-Fetch-Dest", "empty"),
                ("Sec-Fetch-Mode", "no-cors"),
                ("Sec-Fetch-Site", "same-origin"),
            ]
        ),
        TrafficFixture(
            name: "chrome-speculation-rules-prefetch",
            source: "Chromium content/browser/preloading/prefetch/prefetch_container.cc (sets 'Purpose: prefetch' unless kRemovePurposeHeaderForPrefetch, plus Sec-Purpose) ; third_party/blink/public/common/navigation/preloading_headers.h ; MDN Speculation Rules API 'Server-side detection' ; Accept values: https://developer.mozilla.org/en-US/docs/Web/HTTP/Guides/Content_negotiation/List_of_default_Accept_values",
            expected: "prefetch",
            remoteAddr: "192.0.2.11",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"),
                ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"),
                ("Upgrade-Insecure-Requests", "1"),
                ("Purpose", "prefetch"),
                ("Sec-Purpose", "prefetch"),
                ("Sec-Fetch-Dest", "document"),
                ("Sec-Fetch-Mode", "navigate"),
            ]
        ),
        TrafficFixture(
            name: "chrome-speculation-prefetch-anonymous-ip",
            source: "Chromium third_party/blink/public/common/navigation/preloading_headers.h (kSecPurposePrefetchAnonymousClientIpHeaderValue = \"prefetch;anonymous-client-ip\") ; chrome/browser/prefetch/prefetch_headers.cc; request arrives from Google's private prefetch proxy",
            expected: "prefetch",
            remoteAddr: "74.125.213.20",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Mobile Safari/537.36"),
                ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"),
                ("Sec-Purpose", "prefetch;anonymous-client-ip"),
                ("Sec-Fetch-Dest", "document"),
                ("Sec-Fetch-Mode", "navigate"),
            ]
        ),
        TrafficFixture(
            name: "chrome-speculation-rules-prerender",
            source: "MDN Speculation Rules API ('Sec-Purpose: prefetch;prerender') ; WPT speculation-rules/prerender/headers.https.html (prerendered page carries Sec-Purpose prefetch;prerender and Sec-Speculation-Tags: null) ; preloading_headers.h",
            expected: "prefetch",
            remoteAddr: "192.0.2.12",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"),
                ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"),
                ("Upgrade-Insecure-Requests", "1"),
                ("Purpose", "prefetch"),
                ("Sec-Purpose", "prefetch;prerender"),
                ("Sec-Speculation-Tags", "null"),
                ("Sec-Fetch-Dest", "document"),
                ("Sec-Fetch-Mode", "navigate"),
            ]
        ),
        TrafficFixture(
            name: "chrome-prerendered-page-pixel",
            source: "Chromium resource_request_utils.cc (requests from a prerendering context get 'Sec-Purpose: prefetch;prerender' + 'Purpose: prefetch') ; WPT speculation-rules/prerender/headers.https.html (image inserted before activation carries Sec-Purpose prefetch;prerender) ; Accept values: https://developer.mozilla.org/en-US/docs/Web/HTTP/Guides/Content_negotiation/List_of_default_Accept_values",
            expected: "prefetch",
            remoteAddr: "192.0.2.13",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"),
                ("Accept", "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"),
                ("Purpose", "prefetch"),
                ("Sec-Purpose", "prefetch;prerender"),
                ("Sec-Fetch-Dest", "image"),
                ("Sec-Fetch-Mode", "no-cors"),
            ]
        ),
        TrafficFixture(
            name: "chrome-link-preview",
            source: "Chromium third_party/blink/public/common/navigation/preloading_headers.h (kSecPurposePrefetchPrerenderPreviewHeaderValue = \"prefetch;prerender;preview\")",
            expected: "prefetch",
            remoteAddr: "192.0.2.14",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Mobile Safari/537.36"),
                ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"),
                ("Sec-Purpose", "prefetch;prerender;preview"),
                ("Sec-Fetch-Dest", "document"),
                ("Sec-Fetch-Mode", "navigate"),
            ]
        ),
        TrafficFixture(
            name: "firefox-link-prefetch-sec-purpose",
            source: "MDN Sec-Purpose header page, 'A prefetch request' example (Firefox 116, verbatim) https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/Sec-Purpose ; BCD: Firefox 115 replaced X-moz with Sec-Purpose",
            expected: "prefetch",
            remoteAddr: "198.51.100.20",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/116.0"),
                ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"),
                ("Accept-Language", "en-US,en;q=0.5"),
                ("Accept-Encoding", "gzip, deflate, br"),
                ("Sec-Purpose", "prefetch"),
                ("Connection", "keep-alive"),
                ("Sec-Fetch-Dest", "empty"),
                ("Sec-Fetch-Mode", "no-cors"),
                ("Sec-Fetch-Site", "same-origin"),
                ("Pragma", "no-cache"),
                ("Cache-Control", "no-cache"),
            ]
        ),
        TrafficFixture(
            name: "firefox-legacy-x-moz-prefetch",
            source: "MDN Link prefetching FAQ ('X-moz: prefetch' sent with every prefetch request, Firefox < 115) ; UA from MDN User-Agent page Firefox example",
            expected: "prefetch",
            remoteAddr: "198.51.100.21",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:47.0) Gecko/20100101 Firefox/47.0"),
                ("Accept", "*/*"),
                ("X-moz", "prefetch"),
            ]
        ),
        TrafficFixture(
            name: "safari-top-sites-preview",
            source: "https://sunpig.com/martin/2010/01/08/how-to-detect-a-page-request-from-safari-4s-top-sites-feature/ and Stack Overflow 'What is the definition of HTTP_X_PURPOSE?' (X-Purpose: preview on the base URL only; UA quoted in that question)",
            expected: "prefetch",
            remoteAddr: "203.0.113.30",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Macintosh; U; PPC Mac OS X 10_5_8; en-us) AppleWebKit/531.9 (KHTML, like Gecko) Version/4.0.3 Safari/531.9"),
                ("X-Purpose", "preview"),
            ]
        ),
        // MARK: bot
        TrafficFixture(
            name: "curl-default",
            source: "curl's default agent, curl/<version> (https://curl.se/docs/manpage.html#-A); Debian 12's curl 7.88.1",
            expected: "bot",
            remoteAddr: "198.51.100.10",
            headers: [
                ("User-Agent", "curl/7.88.1"),
                ("Accept", "*/*"),
            ]
        ),
        TrafficFixture(
            name: "wget-default",
            source: "GNU Wget's default agent Wget/<version> (wget manual, --user-agent); Debian 12's wget",
            expected: "bot",
            remoteAddr: "198.51.100.11",
            headers: [
                ("User-Agent", "Wget/1.21.3"),
                ("Accept", "*/*"),
                ("Accept-Encoding", "identity"),
            ]
        ),
        TrafficFixture(
            name: "python-requests",
            source: "psf/requests utils.default_user_agent: python-requests/<version>",
            expected: "bot",
            remoteAddr: "198.51.100.12",
            headers: [
                ("User-Agent", "python-requests/2.31.0"),
                ("Accept", "*/*"),
            ]
        ),
        TrafficFixture(
            name: "go-http-client",
            source: "Go net/http's default agent, Go-http-client/1.1 (net/http/request.go defaultUserAgent)",
            expected: "bot",
            remoteAddr: "198.51.100.13",
            headers: [
                ("User-Agent", "Go-http-client/1.1"),
            ]
        ),
        TrafficFixture(
            name: "axios",
            source: "axios's default agent in Node, axios/<version> (axios lib/adapters/http.js)",
            expected: "bot",
            remoteAddr: "198.51.100.15",
            headers: [
                ("User-Agent", "axios/1.6.2"),
                ("Accept", "application/json, text/plain, */*"),
            ]
        ),
        TrafficFixture(
            name: "node-fetch",
            source: "node-fetch's default agent (node-fetch README, 'User-Agent: node-fetch')",
            expected: "bot",
            remoteAddr: "198.51.100.16",
            headers: [
                ("User-Agent", "node-fetch"),
            ]
        ),
        TrafficFixture(
            name: "java-httpclient",
            source: "Java 11+ java.net.http.HttpClient's default agent Java-http-client/<version> (jdk.internal.net.http)",
            expected: "bot",
            remoteAddr: "198.51.100.17",
            headers: [
                ("User-Agent", "Java-http-client/17.0.9"),
            ]
        ),
        TrafficFixture(
            name: "headless-chrome",
            source: "Chrome for Testing / headless Chrome's agent names HeadlessChrome (https://developer.chrome.com/docs/chromium/headless)",
            expected: "bot",
            remoteAddr: "198.51.100.18",
            headers: [
                ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.109 Safari/537.36"),
            ]
        ),
        TrafficFixture(
            name: "lighthouse",
            source: "Lighthouse's agent as PageSpeed Insights sends it (https://developer.chrome.com/docs/lighthouse; monperrus/crawler-user-agents pattern Chrome-Lighthouse)",
            expected: "bot",
            remoteAddr: "66.249.93.10",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse"),
            ]
        ),
        TrafficFixture(
            name: "phantomjs",
            source: "PhantomJS 2.1's default agent (phantomjs src/webpage.cpp; monperrus/crawler-user-agents pattern PhantomJS)",
            expected: "bot",
            remoteAddr: "198.51.100.19",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1"),
            ]
        ),
        TrafficFixture(
            name: "no-user-agent",
            source: "a fetch without a User-Agent header, as link-checking scanners and scripts make (RFC 9110 §10.1.5)",
            expected: "bot",
            remoteAddr: "198.51.100.20",
            headers: [
                ("Accept", "*/*"),
            ]
        ),
        TrafficFixture(
            name: "empty-user-agent",
            source: "a User-Agent header with nothing in it (curl -A '')",
            expected: "bot",
            remoteAddr: "198.51.100.21",
            headers: [
                ("User-Agent", "  "),
            ]
        ),
        TrafficFixture(
            name: "googlebot-desktop",
            source: "https://developers.google.com/search/docs/crawling-indexing/overview-google-crawlers (form with Chrome/W.X.Y.Z) ; concrete string from omrilotan/isbot fixtures/crawlers.yml",
            expected: "bot",
            remoteAddr: "66.249.66.1",
            headers: [
                ("User-Agent", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; +http://www.google.com/bot.html) Chrome/84.0.4147.108 Safari/537.36"),
            ]
        ),
        TrafficFixture(
            name: "googlebot-smartphone",
            source: "https://developers.google.com/search/docs/crawling-indexing/overview-google-crawlers ; concrete string from omrilotan/isbot fixtures/crawlers.yml",
            expected: "bot",
            remoteAddr: "66.249.79.12",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.92 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
            ]
        ),
        TrafficFixture(
            name: "googlebot-image",
            source: "monperrus/crawler-user-agents (Googlebot-Image) ; matomo-org/device-detector Tests/fixtures/bots.yml",
            expected: "bot",
            remoteAddr: "66.249.66.2",
            headers: [
                ("User-Agent", "Googlebot-Image/1.0"),
            ]
        ),
        TrafficFixture(
            name: "bingbot",
            source: "http://www.bing.com/bingbot.htm ; monperrus/crawler-user-agents crawler-user-agents.json (bingbot instances)",
            expected: "bot",
            remoteAddr: "157.55.39.1",
            headers: [
                ("User-Agent", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/103.0.5060.134 Safari/537.36"),
            ]
        ),
        TrafficFixture(
            name: "applebot",
            source: "http://www.apple.com/go/applebot ; omrilotan/isbot fixtures/crawlers.yml",
            expected: "bot",
            remoteAddr: "17.241.219.10",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)"),
            ]
        ),
        TrafficFixture(
            name: "duckduckbot",
            source: "http://duckduckgo.com/duckduckbot.html ; monperrus/crawler-user-agents",
            expected: "bot",
            remoteAddr: "20.191.45.212",
            headers: [
                ("User-Agent", "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)"),
            ]
        ),
        TrafficFixture(
            name: "yandexbot",
            source: "https://yandex.com/support/webmaster/robot-workings/check-yandex-robots.html ; monperrus/crawler-user-agents ; matomo-org/device-detector bots.yml",
            expected: "bot",
            remoteAddr: "5.255.253.28",
            headers: [
                ("User-Agent", "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)"),
            ]
        ),
        TrafficFixture(
            name: "baiduspider",
            source: "http://www.baidu.com/search/spider.html ; monperrus/crawler-user-agents ; device-detector bots fixtures",
            expected: "bot",
            remoteAddr: "220.181.108.89",
            headers: [
                ("User-Agent", "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)"),
            ]
        ),
        TrafficFixture(
            name: "facebookexternalhit",
            source: "https://developers.facebook.com/docs/sharing/webmasters/crawler/ ; monperrus/crawler-user-agents",
            expected: "bot",
            remoteAddr: "173.252.107.116",
            headers: [
                ("User-Agent", "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"),
            ]
        ),
        TrafficFixture(
            name: "twitterbot",
            source: "https://developer.twitter.com/en/docs/twitter-for-websites/cards/guides/getting-started ; monperrus/crawler-user-agents ; device-detector bots fixtures",
            expected: "bot",
            remoteAddr: "199.16.157.180",
            headers: [
                ("User-Agent", "Twitterbot/1.0"),
            ]
        ),
        TrafficFixture(
            name: "linkedinbot",
            source: "monperrus/crawler-user-agents (LinkedInBot instances)",
            expected: "bot",
            remoteAddr: "108.174.2.200",
            headers: [
                ("User-Agent", "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)"),
            ]
        ),
        TrafficFixture(
            name: "slackbot-link-expanding",
            source: "https://api.slack.com/robots ; monperrus/crawler-user-agents ; device-detector bots fixtures",
            expected: "bot",
            remoteAddr: "54.209.113.12",
            headers: [
                ("User-Agent", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"),
            ]
        ),
        TrafficFixture(
            name: "slack-imgproxy",
            source: "https://api.slack.com/robots ; monperrus/crawler-user-agents (Slack-ImgProxy)",
            expected: "bot",
            remoteAddr: "54.209.113.13",
            headers: [
                ("User-Agent", "Slack-ImgProxy (+https://api.slack.com/robots)"),
            ]
        ),
        TrafficFixture(
            name: "discordbot",
            source: "monperrus/crawler-user-agents ; matomo-org/device-detector Tests/fixtures/bots.yml",
            expected: "bot",
            remoteAddr: "35.227.62.178",
            headers: [
                ("User-Agent", "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)"),
            ]
        ),
        TrafficFixture(
            name: "telegrambot",
            source: "monperrus/crawler-user-agents ; omrilotan/isbot fixtures/crawlers.yml ; device-detector bots fixtures",
            expected: "bot",
            remoteAddr: "149.154.161.201",
            headers: [
                ("User-Agent", "TelegramBot (like TwitterBot)"),
            ]
        ),
        TrafficFixture(
            name: "whatsapp-link-preview",
            source: "omrilotan/isbot fixtures/crawlers.yml (WhatsApp) ; monperrus/crawler-user-agents (pattern WhatsApp). Preview is fetched by the sender's phone, so the address is an ordinary ISP one",
            expected: "bot",
            remoteAddr: "198.51.100.88",
            headers: [
                ("User-Agent", "WhatsApp/2.21.12.21 A"),
            ]
        ),
        TrafficFixture(
            name: "imessage-link-preview",
            source: "https://github.com/arcjet/well-known-bots/issues/36 (citing Stack Overflow 41499402; fetched from the user's own IP)",
            expected: "bot",
            remoteAddr: "203.0.113.90",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0"),
            ]
        ),
        TrafficFixture(
            name: "ahrefsbot",
            source: "http://ahrefs.com/robot/ ; matomo-org/device-detector Tests/fixtures/bots.yml",
            expected: "bot",
            remoteAddr: "54.36.148.1",
            headers: [
                ("User-Agent", "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)"),
            ]
        ),
        TrafficFixture(
            name: "semrushbot",
            source: "http://www.semrush.com/bot.html ; monperrus/crawler-user-agents (SemrushBot instances)",
            expected: "bot",
            remoteAddr: "185.191.171.1",
            headers: [
                ("User-Agent", "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)"),
            ]
        ),
        TrafficFixture(
            name: "gptbot",
            source: "https://platform.openai.com/docs/gptbot ; monperrus/crawler-user-agents ; device-detector bots fixtures",
            expected: "bot",
            remoteAddr: "20.171.207.1",
            headers: [
                ("User-Agent", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0; +https://openai.com/gptbot)"),
            ]
        ),
        TrafficFixture(
            name: "microsoft-preview",
            source: "https://www.bing.com/webmasters/help/which-crawlers-does-bing-use-8c184ec0 (MicrosoftPreview) ; matomo-org/device-detector Tests/fixtures/bots.yml",
            expected: "bot",
            remoteAddr: "40.77.167.10",
            headers: [
                ("User-Agent", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; MicrosoftPreview/2.0; +https://aka.ms/MicrosoftPreview) Chrome/100.0.4896.127 Safari/537.36"),
            ]
        ),
        TrafficFixture(
            name: "barracuda-sentinel-scanner",
            source: "matomo-org/device-detector Tests/fixtures/bots.yml (e-mail security scanner 'Barracuda Sentinel (EE)')",
            expected: "bot",
            remoteAddr: "198.51.100.140",
            headers: [
                ("User-Agent", "Barracuda Sentinel (EE)"),
            ]
        ),
        // MARK: human
        TrafficFixture(
            name: "chrome-windows",
            source: "https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/User-Agent (mdn/content files/en-us/web/http/reference/headers/user-agent/index.md) ; Accept values: https://developer.mozilla.org/en-US/docs/Web/HTTP/Guides/Content_negotiation/List_of_default_Accept_values",
            expected: "human",
            remoteAddr: "192.0.2.101",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"),
                ("Accept", "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"),
                ("Sec-Fetch-Dest", "image"),
                ("Sec-Fetch-Mode", "no-cors"),
            ]
        ),
        TrafficFixture(
            name: "chrome-macos",
            source: "https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/User-Agent (mdn/content files/en-us/web/http/reference/headers/user-agent/index.md) ; Accept values: https://developer.mozilla.org/en-US/docs/Web/HTTP/Guides/Content_negotiation/List_of_default_Accept_values",
            expected: "human",
            remoteAddr: "192.0.2.102",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"),
                ("Accept", "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"),
                ("Sec-Fetch-Dest", "image"),
                ("Sec-Fetch-Mode", "no-cors"),
            ]
        ),
        TrafficFixture(
            name: "chrome-linux",
            source: "Chromium UA-reduction reference https://www.chromium.org/updates/ua-reduction (unified platform 'X11; Linux x86_64', Chrome/<major>.0.0.0) ; Accept values: https://developer.mozilla.org/en-US/docs/Web/HTTP/Guides/Content_negotiation/List_of_default_Accept_values",
            expected: "human",
            remoteAddr: "192.0.2.103",
            headers: [
                ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"),
                ("Accept", "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"),
                ("Sec-Fetch-Dest", "image"),
                ("Sec-Fetch-Mode", "no-cors"),
            ]
        ),
        TrafficFixture(
            name: "chrome-android",
            source: "https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/User-Agent (mdn/content files/en-us/web/http/reference/headers/user-agent/index.md) ; Accept values: https://developer.mozilla.org/en-US/docs/Web/HTTP/Guides/Content_negotiation/List_of_default_Accept_values",
            expected: "human",
            remoteAddr: "2001:db8:85a3::8a2e:370:7334",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Mobile Safari/537.36"),
                ("Accept", "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"),
                ("Sec-Fetch-Dest", "image"),
                ("Sec-Fetch-Mode", "no-cors"),
            ]
        ),
        TrafficFixture(
            name: "firefox-windows",
            source: "MDN Sec-Purpose example UA (Firefox 116, Windows) ; Accept values: https://developer.mozilla.org/en-US/docs/Web/HTTP/Guides/Content_negotiation/List_of_default_Accept_values",
            expected: "human",
            remoteAddr: "198.51.100.101",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/116.0"),
                ("Accept", "image/avif,image/webp,*/*"),
                ("Sec-Fetch-Dest", "image"),
                ("Sec-Fetch-Mode", "no-cors"),
                ("Accept-Language", "en-US,en;q=0.5"),
            ]
        ),
        TrafficFixture(
            name: "firefox-linux",
            source: "MDN Firefox UA reference (Linux x86_64 form) https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/User-Agent/Firefox, instantiated for Firefox 128 ESR ; Accept values: https://developer.mozilla.org/en-US/docs/Web/HTTP/Guides/Content_negotiation/List_of_default_Accept_values",
            expected: "human",
            remoteAddr: "198.51.100.102",
            headers: [
                ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
                ("Accept", "image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5"),
                ("Sec-Fetch-Dest", "image"),
                ("Sec-Fetch-Mode", "no-cors"),
            ]
        ),
        TrafficFixture(
            name: "firefox-android",
            source: "MDN Firefox UA reference (Firefox for Android phone form, gecko-trail = version), instantiated for Firefox 128 ; Accept values: https://developer.mozilla.org/en-US/docs/Web/HTTP/Guides/Content_negotiation/List_of_default_Accept_values",
            expected: "human",
            remoteAddr: "198.51.100.103",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0"),
                ("Accept", "image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5"),
                ("Sec-Fetch-Dest", "image"),
                ("Sec-Fetch-Mode", "no-cors"),
            ]
        ),
        TrafficFixture(
            name: "safari-macos",
            source: "https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/User-Agent (mdn/content files/en-us/web/http/reference/headers/user-agent/index.md) ; Accept values: https://developer.mozilla.org/en-US/docs/Web/HTTP/Guides/Content_negotiation/List_of_default_Accept_values",
            expected: "human",
            remoteAddr: "203.0.113.101",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Safari/605.1.15"),
                ("Accept", "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5"),
                ("Sec-Fetch-Dest", "image"),
                ("Sec-Fetch-Mode", "no-cors"),
            ]
        ),
        TrafficFixture(
            name: "safari-iphone",
            source: "https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/User-Agent (mdn/content files/en-us/web/http/reference/headers/user-agent/index.md) ; Accept values: https://developer.mozilla.org/en-US/docs/Web/HTTP/Guides/Content_negotiation/List_of_default_Accept_values",
            expected: "human",
            remoteAddr: "203.0.113.102",
            headers: [
                ("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Mobile/15E148 Safari/604.1"),
                ("Accept", "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5"),
                ("Sec-Fetch-Dest", "image"),
                ("Sec-Fetch-Mode", "no-cors"),
            ]
        ),
        TrafficFixture(
            name: "safari-ipados-desktop-ua",
            source: "MDN Firefox UA reference, 'Firefox for iOS' table: on iPad the UA is identical to macOS Safari (desktop-class browsing)",
            expected: "human",
            remoteAddr: "203.0.113.103",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1 Safari/605.1.15"),
                ("Accept", "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5"),
                ("Sec-Fetch-Dest", "image"),
                ("Sec-Fetch-Mode", "no-cors"),
            ]
        ),
        TrafficFixture(
            name: "edge-windows",
            source: "https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/User-Agent (mdn/content files/en-us/web/http/reference/headers/user-agent/index.md) (Microsoft Edge UA string) ; Accept values: https://developer.mozilla.org/en-US/docs/Web/HTTP/Guides/Content_negotiation/List_of_default_Accept_values",
            expected: "human",
            remoteAddr: "192.0.2.104",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36 Edg/143.0.0.0"),
                ("Accept", "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"),
                ("Sec-Fetch-Dest", "image"),
                ("Sec-Fetch-Mode", "no-cors"),
            ]
        ),
        TrafficFixture(
            name: "edge-android",
            source: "https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/User-Agent (mdn/content files/en-us/web/http/reference/headers/user-agent/index.md) (EdgA example)",
            expected: "human",
            remoteAddr: "192.0.2.105",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Mobile Safari/537.36 EdgA/141.0.0.0"),
                ("Accept", "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"),
                ("Sec-Fetch-Dest", "image"),
                ("Sec-Fetch-Mode", "no-cors"),
            ]
        ),
        TrafficFixture(
            name: "samsung-internet",
            source: "matomo-org/device-detector Tests/fixtures (smartphone fixtures, SamsungBrowser/24.0)",
            expected: "human",
            remoteAddr: "192.0.2.106",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36"),
                ("Accept", "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"),
                ("Sec-Fetch-Dest", "image"),
                ("Sec-Fetch-Mode", "no-cors"),
            ]
        ),
        TrafficFixture(
            name: "opera-windows",
            source: "matomo-org/device-detector Tests/Parser/Client/fixtures/browser.yml",
            expected: "human",
            remoteAddr: "192.0.2.107",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/134.0.0.0 Safari/537.36 OPR/119.0.0.0"),
                ("Accept", "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"),
                ("Sec-Fetch-Dest", "image"),
                ("Sec-Fetch-Mode", "no-cors"),
            ]
        ),
        TrafficFixture(
            name: "opera-android",
            source: "https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/User-Agent (mdn/content files/en-us/web/http/reference/headers/user-agent/index.md) (Opera Android example)",
            expected: "human",
            remoteAddr: "192.0.2.108",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Mobile Safari/537.36 OPR/92.0.0.0"),
                ("Accept", "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"),
                ("Sec-Fetch-Dest", "image"),
                ("Sec-Fetch-Mode", "no-cors"),
            ]
        ),
        TrafficFixture(
            name: "apple-mail-macos-mpp-off",
            source: "https://github.com/medama-io/go-useragent/issues/10 ; https://github.com/ua-parser/uap-core/issues/528 (Apple Mail UA = WebKit UA without Version/ and Safari tokens)",
            expected: "human",
            remoteAddr: "203.0.113.110",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"),
            ]
        ),
        TrafficFixture(
            name: "apple-mail-macos-13",
            source: "https://github.com/ua-parser/uap-core/issues/528 (Apple Mail version 13)",
            expected: "human",
            remoteAddr: "203.0.113.111",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_6) AppleWebKit/605.1.15 (KHTML, like Gecko)"),
            ]
        ),
        TrafficFixture(
            name: "ios-mail",
            source: "https://github.com/medama-io/go-useragent/issues/5 (iOS web-view UA, same shape as iOS Mail) ; https://github.com/biggora/express-useragent/issues/78 (iPhone Apple Mail client, no Safari token)",
            expected: "human",
            remoteAddr: "2001:db8:1::42",
            headers: [
                ("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"),
            ]
        ),
        TrafficFixture(
            name: "outlook-desktop-windows",
            source: "matomo-org/device-detector Tests/Parser/Client/fixtures/pim.yml (Microsoft Outlook 16)",
            expected: "human",
            remoteAddr: "192.0.2.120",
            headers: [
                ("User-Agent", "Microsoft Office/16.0 (Microsoft Outlook 16.0.12329; Pro), Mozilla/4.0 (compatible; ms-office; MSOffice 16)"),
            ]
        ),
        TrafficFixture(
            name: "outlook-desktop-ms-office",
            source: "omrilotan/isbot fixtures/browsers.yml (Outlook)",
            expected: "human",
            remoteAddr: "192.0.2.121",
            headers: [
                ("User-Agent", "Mozilla/4.0 (compatible; ms-office; MSOffice 16)"),
            ]
        ),
        TrafficFixture(
            name: "outlook-mail-windows",
            source: "omrilotan/isbot fixtures/browsers.yml (Outlook Mail)",
            expected: "human",
            remoteAddr: "192.0.2.122",
            headers: [
                ("User-Agent", "Microsoft Office/16.0 (Microsoft Outlook Mail 16.0.8008; Pro)"),
            ]
        ),
        TrafficFixture(
            name: "outlook-ios-app",
            source: "https://github.com/3rd-Eden/useragent/issues/146 (image in mail opened in Outlook for iPhone) ; omrilotan/isbot fixtures/browsers.yml",
            expected: "human",
            remoteAddr: "203.0.113.120",
            headers: [
                ("User-Agent", "Outlook-iOS/711.2304115.prod.iphone (3.26.0)"),
            ]
        ),
        TrafficFixture(
            name: "thunderbird-linux",
            source: "omrilotan/isbot fixtures/browsers.yml (Thunderbird) ; matomo-org/device-detector pim fixtures",
            expected: "human",
            remoteAddr: "198.51.100.120",
            headers: [
                ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:45.0) Gecko/20100101 Thunderbird/45.8.0"),
            ]
        ),
        TrafficFixture(
            name: "cubot-phone-chrome",
            source: "matomo-org/device-detector Tests/fixtures/smartphone-41.yml (Cubot X50) — 'Cubot' contains 'bot'",
            expected: "human",
            remoteAddr: "2001:db8:2::17",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Linux; Android 14; Cubot X50) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"),
                ("Accept", "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"),
                ("Sec-Fetch-Dest", "image"),
                ("Sec-Fetch-Mode", "no-cors"),
            ]
        ),
        TrafficFixture(
            name: "cubot-max-phone",
            source: "omrilotan/isbot fixtures/browsers.yml (Cubot) ; matomo-org/device-detector Tests/fixtures/smartphone-3.yml — upper-case 'CUBOT'",
            expected: "human",
            remoteAddr: "198.51.100.130",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Linux; Android 6.0; CUBOT MAX) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/72.0.3626.121 Mobile Safari/537.36"),
            ]
        ),
        TrafficFixture(
            name: "duckduckgo-browser-macos",
            source: "matomo-org/device-detector Tests/Parser/Client/fixtures/browser.yml (DuckDuckGo browser) — contains 'DuckDuckGo' but is not DuckDuckBot",
            expected: "human",
            remoteAddr: "198.51.100.131",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 DuckDuckGo/7 Safari/605.1.15"),
                ("Accept", "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5"),
                ("Sec-Fetch-Dest", "image"),
                ("Sec-Fetch-Mode", "no-cors"),
            ]
        ),
        TrafficFixture(
            name: "facebook-in-app-browser",
            source: "omrilotan/isbot fixtures/browsers.yml ('Glitches and Misidentified Browsers — legit user agents'): Facebook in-app browser, contains 'Facebook' but not facebookexternalhit",
            expected: "human",
            remoteAddr: "198.51.100.132",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Linux; Android 16; Pixel 10 Pro XL Build/CP1A.260305.018; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/146.0.7680.174 Mobile Safari/537.36 MetaIAB Facebook"),
                ("Accept", "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"),
                ("Sec-Fetch-Dest", "image"),
                ("Sec-Fetch-Mode", "no-cors"),
            ]
        ),
        TrafficFixture(
            name: "firefox-linux-dnt",
            source: "MDN DNT header https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/DNT ; UA per MDN Firefox UA reference",
            expected: "human",
            remoteAddr: "198.51.100.140",
            headers: [
                ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
                ("Accept", "image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5"),
                ("Sec-Fetch-Dest", "image"),
                ("Sec-Fetch-Mode", "no-cors"),
                ("DNT", "1"),
            ]
        ),
        TrafficFixture(
            name: "firefox-windows-sec-gpc",
            source: "MDN Sec-GPC header https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/Sec-GPC ; UA from MDN Sec-Purpose example",
            expected: "human",
            remoteAddr: "198.51.100.141",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/116.0"),
                ("Accept", "image/avif,image/webp,*/*"),
                ("Sec-Fetch-Dest", "image"),
                ("Sec-Fetch-Mode", "no-cors"),
                ("DNT", "1"),
                ("Sec-GPC", "1"),
            ]
        ),
        TrafficFixture(
            name: "brave-chrome-ua-sec-gpc",
            source: "MDN Sec-GPC header (Brave sends Sec-GPC: 1; Brave reports the Chrome UA) ; https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/User-Agent (mdn/content files/en-us/web/http/reference/headers/user-agent/index.md)",
            expected: "human",
            remoteAddr: "192.0.2.141",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"),
                ("Accept", "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"),
                ("Sec-Fetch-Dest", "image"),
                ("Sec-Fetch-Mode", "no-cors"),
                ("Sec-GPC", "1"),
            ]
        ),
        // MARK: machines told by the addresses they come from (issue 29)
        TrafficFixture(
            name: "safe-links-eop-chrome-agent",
            source: "https://learn.microsoft.com/en-us/defender-office-365/safe-links-about (links checked on delivery, unknown ones 'detonated asynchronously') ; https://learn.microsoft.com/en-us/answers/a/12221247 (automated clicks from Microsoft addresses with a browser's agent) ; address in Exchange Online Protection's 40.107.0.0/16 (Microsoft 365 endpoints, set 9)",
            expected: "bot",
            remoteAddr: "40.107.22.58",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"),
                ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
            ]
        ),
        TrafficFixture(
            name: "exchange-online-ipv6-edge-agent",
            source: "Microsoft 365 endpoints, Exchange Online set 10, Exchange Online Protection (2a01:111:f403::/48) ; a scanner sending Edge's agent for its own",
            expected: "bot",
            remoteAddr: "2a01:111:f403:c201::7",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"),
            ]
        ),
        TrafficFixture(
            name: "exchange-online-ipv4-mapped",
            source: "Microsoft 365 endpoints, Exchange Online set 9 (52.100.0.0/14), as a dual-stack socket reports an IPv4 peer (::ffff:a.b.c.d)",
            expected: "bot",
            remoteAddr: "::ffff:52.101.8.14",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"),
            ]
        ),
        TrafficFixture(
            name: "google-safety-special-crawler-chrome-agent",
            source: "https://developers.google.com/crawling/docs/crawlers-fetchers/verifying-googlebot (special-case crawlers, Google-Safety among them, published in special-crawlers.json) ; address in its 66.249.90.0/23",
            expected: "bot",
            remoteAddr: "66.249.90.77",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"),
            ]
        ),
        TrafficFixture(
            name: "google-special-crawler-second-block",
            source: "https://developers.google.com/crawling/docs/crawlers-fetchers/verifying-googlebot (special-case crawlers' ranges, special-crawlers.json: 74.125.216.0/27) ; a browser's agent, as Google-Safety may send",
            expected: "bot",
            remoteAddr: "74.125.216.9",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"),
            ]
        ),
        TrafficFixture(
            name: "apple-mail-hide-ip-address",
            source: "Apple Mail with Protect Mail Activity off but Hide IP Address on loads a reader's remote content through iCloud Private Relay as it is read (Apple Support, Mail settings: Privacy Protection) with Apple Mail's own agent (https://github.com/ua-parser/uap-core/issues/528), from an egress address (https://mask-api.icloud.com/egress-ip-ranges.csv, 104.28.28.0/26): a person reading, as Mail Privacy Protection's prefetch would look; no rule may take it for the proxy",
            expected: "human",
            remoteAddr: "104.28.28.17",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"),
            ]
        ),
        TrafficFixture(
            name: "ios-mail-hide-ip-address",
            source: "iOS Mail's agent (https://github.com/biggora/express-useragent/issues/78) from an iCloud Private Relay egress address (172.224.226.0/26): a reader with Hide IP Address on",
            expected: "human",
            remoteAddr: "172.224.226.9",
            headers: [
                ("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"),
            ]
        ),
        TrafficFixture(
            name: "fastmail-image-proxy",
            source: "https://www.fastmail.com/policies/bots/ ('all user agent strings always contain the string FastmailUA')",
            expected: "mail-proxy",
            remoteAddr: "198.51.100.150",
            headers: [
                ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.5993.117 Safari/537.36 FastmailUA/1.0"),
            ]
        ),
        TrafficFixture(
            name: "yahoo-link-preview",
            source: "https://help.yahoo.com/kb/mail/yahoo-link-preview-SLN23615.html (the agent names its page)",
            expected: "bot",
            remoteAddr: "198.51.100.151",
            headers: [
                ("User-Agent", "Mozilla/5.0 (compatible; Yahoo Link Preview; https://help.yahoo.com/kb/mail/yahoo-link-preview-SLN23615.html)"),
            ]
        ),
        // People whose addresses are near the machines': still people.
        TrafficFixture(
            name: "safari-macos-private-relay",
            source: "Safari with iCloud Private Relay on leaves through the egress list (https://developer.apple.com/support/prepare-your-network-for-icloud-private-relay/) and keeps Safari's agent (Version/… Safari/…)",
            expected: "human",
            remoteAddr: "104.28.28.18",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"),
                ("Accept", "image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5"),
                ("Sec-Fetch-Dest", "image"),
            ]
        ),
        TrafficFixture(
            name: "safari-iphone-private-relay",
            source: "Mobile Safari through iCloud Private Relay (https://developer.apple.com/support/prepare-your-network-for-icloud-private-relay/): Safari's agent from an egress address",
            expected: "human",
            remoteAddr: "172.224.226.10",
            headers: [
                ("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"),
            ]
        ),
        TrafficFixture(
            name: "edge-windows-365-cloud-pc",
            source: "Windows 365 and Azure Virtual Desktop users browse from Azure addresses (20.0.0.0/8 and others), which are not Exchange Online's published ranges (Microsoft 365 endpoints)",
            expected: "human",
            remoteAddr: "20.43.61.10",
            headers: [
                ("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"),
            ]
        ),
    ]
}
