/// What the data plane made of one batch.
public enum DeliveryResult: Sendable, Equatable {
    case delivered
    /// Worth trying again: a network error, a timeout, 408, 429 or 5xx.
    /// `status` is the HTTP status, 0 when there was no answer;
    /// `transportError` libcurl's error code, 0 for an HTTP answer.
    case retry(reason: String, retryAfterSeconds: Int?, status: Int = 0, transportError: Int = 0)
    /// The data plane refused the batch for its events (400, 413, other
    /// 4xx; 401/403 for a write key pixelgate was not told to accept). The
    /// data plane refuses a whole request for one bad event, so a batch of
    /// several is split to find it.
    case refused(status: Int, answer: String)
    /// Nothing is wrong with the events: the URL or the credentials are
    /// (a redirect, 404 or 405, or 401/403 for a write key listed in
    /// `PIXELGATE_WRITE_KEYS`). Keep everything; `reason` says what to fix.
    case misdirected(status: Int, reason: String)
}
