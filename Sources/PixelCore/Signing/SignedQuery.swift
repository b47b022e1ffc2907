/// A query as the signing rules (`PixelSignature`) see it, made only when
/// some write key has a secret: what the event is built from (the query
/// without `sig`, `exp` and `st`, which are the signature's, not event
/// data) and the parts a signature check needs.
struct SignedQuery {
    /// The signed part and the signature, when the last pair is `sig`.
    let parts: (signed: ArraySlice<UInt8>, signature: ArraySlice<UInt8>)?
    /// The query the event is built from.
    let eventQuery: ArraySlice<UInt8>
    /// When the link was signed (`st`), if it says; believed only once the
    /// signature is checked.
    let signedAtSeconds: Int64?

    init(_ query: [UInt8]) {
        parts = PixelSignature.split(query)
        guard let parts else {
            eventQuery = query[...]
            signedAtSeconds = nil
            return
        }
        var event = parts.signed
        if PixelSignature.pairValue(event, named: PixelSignature.expiryParameter) != nil {
            event = PixelSignature.removingPairs(event, named: PixelSignature.expiryParameter)[...]
        }
        if PixelSignature.pairValue(event, named: PixelSignature.signedAtParameter) != nil {
            event = PixelSignature.removingPairs(event, named: PixelSignature.signedAtParameter)[...]
        }
        eventQuery = event
        signedAtSeconds = PixelSignature.signedAt(parts.signed)
    }

    /// Refuses a hit for a write key that has a secret in `secrets` unless
    /// the query carries a valid signature for `route` that has not
    /// expired at `nowMillis`. Keys without a secret need no signature.
    func check(writeKey: String, secrets: [String: String], route: PixelRoute, nowMillis: Int64) throws(PixelError) {
        guard let secret = secrets[writeKey] else { return }
        guard let parts, PixelSignature.isValid(route: route.rawValue, signed: parts.signed, signature: parts.signature,
                                                secret: secret) else {
            throw .invalidSignature
        }
        switch PixelSignature.expiry(parts.signed) {
        case nil: return
        case .some(nil): throw .invalidSignature  // an `exp` that is not a time was never signed by us
        case .some(.some(let seconds)): if nowMillis / 1000 > seconds { throw .signatureExpired }
        }
    }
}
