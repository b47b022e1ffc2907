/// Routes a hit, validates it, builds the event, hands it to the sink and
/// chooses the answer (SPEC §1, §4). Pure apart from the sink it is given;
/// time and ids are passed in.
public struct PixelHandler: Sendable {
    public var configuration: PixelConfiguration
    /// Fatal configuration problems: while there are any, every hit on a
    /// pixel route answers 500 and the problems go to the log.
    public var fatalProblems: [ConfigurationProblem]

    /// The answer to a stored event, made once.
    let successResponse: PixelResponse

    public init(configuration: PixelConfiguration, problems: [ConfigurationProblem] = []) {
        self.configuration = configuration
        self.fatalProblems = problems.filter(\.isFatal)
        successResponse = configuration.response == .text ? .text(200, "OK") : .gif()
    }

    static let retryAfterSeconds = "10"

    /// The outcome of one request: routing and method first, then the
    /// configuration, then the event engine (`EventEngine`) with SPEC §4's
    /// checks in order, then the sink.
    ///
    /// - Parameter workspace: the engine's memory; a serving thread passes
    ///   its own for every request.
    public func handle(_ request: PixelRequest, sink: EventSink, nowMillis: Int64, newMessageId: () -> String,
                       workspace: EventWorkspace = EventWorkspace()) -> HandlerOutcome {
        guard let type = request.route else {
            return HandlerOutcome(response: .text(404, "not found"))
        }
        // No REQUEST_METHOD is not an HTTP request (CGI/1.1 requires it):
        // refused like any method that is not GET or HEAD, nothing recorded.
        let method = request.method ?? ""
        let isHead = method == "HEAD"
        guard method == "GET" || isHead else {
            return HandlerOutcome(response: .text(405, "method not allowed", extraHeaders: [.init(name: "Allow", value: "GET, HEAD")]))
        }
        if !fatalProblems.isEmpty {
            var response = PixelResponse.text(500, "server misconfigured")
            response.sendsBody = !isHead
            return HandlerOutcome(response: response, logLevel: .error,
                                  logMessage: "server misconfigured: " + fatalProblems.map(\.description).joined(separator: "; "))
        }

        let clientIP = ClientAddress.resolve(remoteAddr: request.remoteAddr ?? "", forwardedFor: request.forwardedFor,
                                             trusted: configuration.trustedProxies)
        let query = request.query
        // Signed URLs: with any secret configured, a trailing `sig` (and an
        // `exp`) is taken off the query before the event is built from it.
        let signed = configuration.signingKeys.isEmpty ? nil : SignedQuery(query)
        let eventQuery = signed?.eventQuery ?? query[...]
        let built: Result<PixelEvent, PixelError> = eventQuery.withUnsafeBufferPointer { buffer in
            Result { () throws(PixelError) -> PixelEvent in
                let facts = HitFacts(receivedAtMillis: nowMillis, messageId: newMessageId(),
                                     userAgent: request.userAgent, clientIP: clientIP)
                // SPEC §4's order: the query and the write key's presence
                // (the draft), the allow-list, the signature, identity.
                var draft = try EventEngine.draft(type: type, query: buffer, facts: facts, limits: configuration.limits,
                                                  workspace: workspace)
                try draft.checkWriteKey(allowed: configuration.writeKeys)
                try signed?.check(writeKey: draft.writeKey, secrets: configuration.signingKeys, route: type, nowMillis: nowMillis)
                try draft.checkIdentity()
                return try draft.finish()
            }
        }

        var outcome: HandlerOutcome
        switch built {
        case .failure(let error):
            outcome = refused(error, type: type, query: query, clientIP: clientIP, isHead: isHead, sink: sink, nowMillis: nowMillis)
        case .success(let event):
            outcome = HandlerOutcome(response: success(), isStoredSuccess: true)
            if !isHead {
                do {
                    try sink.store(event)
                } catch where error.isMisconfiguration {
                    outcome = HandlerOutcome(response: .text(500, "server misconfigured"), logLevel: .error,
                                             logMessage: "server misconfigured, event not stored: \(error.detail)")
                } catch {
                    outcome = HandlerOutcome(
                        response: .text(503, "event not stored, try again later",
                                        extraHeaders: [.init(name: "Retry-After", value: PixelHandler.retryAfterSeconds)]),
                        logLevel: .error, logMessage: "event not stored: \(error.detail)")
                }
            }
        }
        outcome.response.sendsBody = !isHead
        return outcome
    }

    public func success() -> PixelResponse { successResponse }

    func refused(_ error: PixelError, type: EventType, query: [UInt8], clientIP: String, isHead: Bool,
                 sink: EventSink, nowMillis: Int64) -> HandlerOutcome {
        var message = "refused \(type.rawValue) hit: \(error.status) \(error.message) (ip=\(clientIP))"
        // HEAD probes (link scanners) are answered like GET but leave no trace.
        if !isHead {
            let hit = RejectedHit(receivedAtMillis: nowMillis, status: error.status, reason: error.message, code: error.code,
                                  route: type.rawValue, clientIP: clientIP, query: query)
            if let note = sink.recordRejected(hit) { message += "; \(note)" }
        }
        let response: PixelResponse = configuration.response == .gifAlways ? .gif() : .text(error.status, error.message)
        return HandlerOutcome(response: response, logLevel: isHead ? nil : .warn, logMessage: isHead ? nil : message)
    }
}
