import Testing
@testable import PixelCore

/// `context.campaign` from the page URL's `utm_*` parameters, as
/// RudderStack's JavaScript SDK makes it (SPEC §3), for the pixels that
/// have no SDK: AMP pages, `<img>` pixels, e-mail.
@Suite("Campaigns from the page URL")
struct CampaignTests {
    /// The page URL (already percent-encoded as a query value) and the
    /// campaign the event must carry, or nil for none.
    @Test(arguments: [
        // The five the SDK names, utm_campaign as name, others as they come.
        ("https://a.example/p?utm_source=mail&utm_medium=email&utm_campaign=dec&utm_term=shoes&utm_content=top&utm_id=42&utm_custom=x",
         #"{"source":"mail","medium":"email","name":"dec","term":"shoes","content":"top","id":"42","custom":"x"}"#),
        // Decoded as URLSearchParams does: + is a space, %XX a byte, UTF-8.
        ("https://a.example/?utm_campaign=Winter+Sale%202026&utm_source=caf%C3%A9", #"{"name":"Winter Sale 2026","source":"café"}"#),
        // A % that starts no escape stays; bytes that are no UTF-8 become U+FFFD.
        ("https://a.example/?utm_source=100%&utm_medium=%ZZ&utm_term=%FF", #"{"source":"100%","medium":"%ZZ","term":"\#u{FFFD}"}"#),
        // Repeated: the last value, in the first one's place.
        ("https://a.example/?utm_source=a&utm_medium=m&utm_source=b", #"{"source":"b","medium":"m"}"#),
        // Empty values are kept; a bare utm_ and a name without = name nothing or nothing but "".
        ("https://a.example/?utm_source=&utm_=x&utm_medium", #"{"source":"","medium":""}"#),
        // The fragment is not the query.
        ("https://a.example/?utm_source=a#utm_medium=b", #"{"source":"a"}"#),
        ("https://a.example/#/route?utm_source=a", nil),
        // Names are case-sensitive, as in the SDK; other parameters are not campaigns.
        ("https://a.example/?UTM_SOURCE=a&x_utm_source=b&q=utm_source", nil),
        ("https://a.example/pricing", nil),
        // A percent-encoded name is decoded first.
        ("https://a.example/?utm%5Fsource=a", #"{"source":"a"}"#),
        // At most 16 names, however many the URL has; repeats still update.
        ("https://a.example/?" + (0..<40).map { "utm_n\($0)=\($0)" }.joined(separator: "&") + "&utm_n0=last",
         "{" + (0..<16).map { #""n\#($0)":"\#($0 == 0 ? "last" : String($0))""# }.joined(separator: ",") + "}"),
    ] as [(String, String?)])
    func campaignOfThePageURL(_ url: String, _ campaign: String?) throws {
        let query = "writeKey=wk&anonymousId=a&context.page.url=" + percentEncoded(url)
        let json = try eventJSON(.page, query)
        if let campaign {
            #expect(json.contains(#""campaign":"# + campaign), "\(json)")
        } else {
            #expect(!json.contains(#""campaign""#), "\(json)")
        }
    }

    /// A page's `properties.url` is the page URL too (it is mirrored to
    /// `context.page.url` first); a track event has it in `context.page.url`.
    @Test func propertiesURLAndTrackEvents() throws {
        let page = try eventJSON(.page, "writeKey=wk&anonymousId=a&properties.url=" + percentEncoded("https://a.example/?utm_source=amp"))
        #expect(page.contains(#""campaign":{"source":"amp"}"#), "\(page)")
        let track = try eventJSON(.track, "writeKey=wk&anonymousId=a&event=E&context.page.url=" + percentEncoded("https://a.example/?utm_medium=cpc"))
        #expect(track.contains(#""campaign":{"medium":"cpc"}"#), "\(track)")
    }

    /// The query's own `context.campaign.*` wins whole: nothing is added.
    @Test func theQuerysCampaignWins() throws {
        let json = try eventJSON(.page, "writeKey=wk&anonymousId=a&context.campaign.name=mine&context.page.url="
                                 + percentEncoded("https://a.example/?utm_source=url&utm_campaign=theirs"))
        #expect(json.contains(#""campaign":{"name":"mine"}"#), "\(json)")
    }

    /// A click link: the campaign of the link's target when the query has
    /// no page URL.
    @Test func aClickTakesItsTargetsCampaign() throws {
        let event = try EventEngine.build(type: .track, route: .click,
                                          query: "writeKey=wk&anonymousId=a&url=" + percentEncoded("https://shop.example/p?utm_source=newsletter&utm_campaign=dec#top"),
                                          facts: fixedFacts)
        #expect(event.eventText.contains(#""campaign":{"source":"newsletter","name":"dec"}"#), "\(event.eventText)")
    }

    func percentEncoded(_ text: String) -> String {
        var out = ""
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                out += "%" + String(b, radix: 16, uppercase: true).leftPadded
            }
        }
        return out
    }
}

private extension String {
    var leftPadded: String { count == 1 ? "0" + self : self }
}
