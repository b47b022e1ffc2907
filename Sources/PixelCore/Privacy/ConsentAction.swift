/// What pixelgate does with a hit whose browser asks not to be tracked
/// (`DNT: 1` or `Sec-GPC: 1`), `PIXELGATE_CONSENT`.
public enum ConsentAction: String, Sendable, CaseIterable {
    /// Store it like any other (the site's own consent decides).
    case record
    /// Store it without the visitor's address and user agent: no
    /// `context.ip`, no `context.userAgent`, an empty `request_ip`.
    case anonymize
    /// Answer as usual, store nothing, count it.
    case drop
}
