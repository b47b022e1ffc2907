/// Why a hit was refused, with the offending name where there is one.
///
/// `status` and `message` are the whole client-facing answer; the mapping
/// from error to HTTP status lives here and nowhere else.
public enum PixelError: Error, Sendable, Equatable {
    case queryTooLong(limit: Int)
    case invalidPercentEncoding(parameter: String)
    case invalidPercentEncodingInName(rawName: String)
    case invalidUTF8(parameter: String)
    case invalidUTF8InName(rawName: String)
    case controlCharacterInName(parameter: String)
    case emptySegment(parameter: String)
    case nameTooLong(prefix: String, limit: Int)
    case tooManyPairs(limit: Int)
    case tooDeep(parameter: String, limit: Int)
    case arrayIndexOverLimit(parameter: String, index: String, limit: Int)
    case missingWriteKey
    case invalidWriteKey
    case invalidSignature
    case signatureExpired
    case missingAnonymousId
    case missingEvent
    case messageIdNotString(parameter: String)
    case invalidIntegration(parameter: String)
    case eventTooLarge(limit: Int)
    /// A click link without a target.
    case missingClickTarget
    /// A click target that is not an absolute http or https URL.
    case invalidClickTarget
    /// A click link for a write key without a signing secret: only signed
    /// links redirect, so that pixelgate is never an open redirect.
    case unsignedClick

    public var status: Int {
        switch self {
        case .queryTooLong: return 414
        default: return 400
        }
    }

    /// The text/plain body the client gets: what is wrong and where.
    public var message: String {
        switch self {
        case .queryTooLong: return "query string too long"
        case .invalidPercentEncoding(let p): return "invalid percent-encoding in parameter '\(p)'"
        case .invalidPercentEncodingInName(let raw): return "invalid percent-encoding in parameter name '\(raw)'"
        case .invalidUTF8(let p): return "invalid UTF-8 in parameter '\(p)'"
        case .invalidUTF8InName(let raw): return "invalid UTF-8 in parameter name '\(raw)'"
        case .controlCharacterInName(let p): return "control character in parameter name '\(p)'"
        case .emptySegment(let p): return "empty path segment in parameter name '\(p)'"
        case .nameTooLong(let prefix, let limit): return "parameter name longer than \(limit) bytes: '\(prefix)'"
        case .tooManyPairs(let limit): return "more than \(limit) parameters"
        case .tooDeep(let p, let limit): return "parameter name '\(p)' has more than \(limit) segments"
        case .arrayIndexOverLimit(let p, let index, let limit):
            return "array index \(index) over the limit \(limit) in parameter '\(p)'"
        case .missingWriteKey: return "missing required parameter: writeKey"
        case .invalidWriteKey: return "invalid write key"
        case .invalidSignature: return "invalid signature"
        case .signatureExpired: return "signature expired"
        case .missingAnonymousId: return "missing required parameter: anonymousId"
        case .missingEvent: return "missing required parameter: event"
        case .messageIdNotString(let p): return "invalid parameter '\(p)': messageId is a string"
        case .invalidIntegration(let p): return "invalid value for '\(p)': must be true or false"
        case .eventTooLarge: return "event too large"
        case .missingClickTarget: return "missing required parameter: url"
        case .invalidClickTarget: return "invalid parameter 'url': must be an absolute http or https URL of at most \(ClickTarget.maxBytes) bytes, percent-encoded"
        case .unsignedClick: return "click links must be signed"
        }
    }

    /// Every `code`, in the order of the spool's `.refused` counter slots:
    /// a new code is added at the end, never in between.
    public static let refusalCodes = [
        "query_too_long", "invalid_percent_encoding", "invalid_utf8", "control_character_in_name", "empty_segment",
        "name_too_long", "too_many_pairs", "too_deep", "array_index_over_limit", "missing_write_key", "invalid_write_key",
        "invalid_signature", "signature_expired", "missing_anonymous_id", "missing_event", "message_id_not_string",
        "invalid_integration", "event_too_large", "missing_url", "invalid_url", "unsigned_click",
    ]

    /// A short stable name for logs and the rejected record.
    public var code: String {
        switch self {
        case .queryTooLong: return "query_too_long"
        case .invalidPercentEncoding, .invalidPercentEncodingInName: return "invalid_percent_encoding"
        case .invalidUTF8, .invalidUTF8InName: return "invalid_utf8"
        case .controlCharacterInName: return "control_character_in_name"
        case .emptySegment: return "empty_segment"
        case .nameTooLong: return "name_too_long"
        case .tooManyPairs: return "too_many_pairs"
        case .tooDeep: return "too_deep"
        case .arrayIndexOverLimit: return "array_index_over_limit"
        case .missingWriteKey: return "missing_write_key"
        case .invalidWriteKey: return "invalid_write_key"
        case .invalidSignature: return "invalid_signature"
        case .signatureExpired: return "signature_expired"
        case .missingAnonymousId: return "missing_anonymous_id"
        case .missingEvent: return "missing_event"
        case .messageIdNotString: return "message_id_not_string"
        case .invalidIntegration: return "invalid_integration"
        case .eventTooLarge: return "event_too_large"
        case .missingClickTarget: return "missing_url"
        case .invalidClickTarget: return "invalid_url"
        case .unsignedClick: return "unsigned_click"
        }
    }
}
