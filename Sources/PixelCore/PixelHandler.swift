/// Routes a hit, validates it, builds the event, hands it to the sink and
/// chooses the answer (SPEC §1, §4). Pure apart from the sink it is given;
/// time and ids are passed in.
public struct PixelHandler: Sendable {
    public var configuration: PixelConfiguration
    /// Fatal configuration problems: while there are any, every hit on a
    /// pixel route answers 500 and the problems go to the log.
    public var fatalProblems: [ConfigurationProblem]
    /// Classes hits by their headers (`TrafficRules`).
    public var classifier: TrafficClassifier

    /// The answer to a stored event, made once.
    let successResponse: PixelResponse

    public init(configuration: PixelConfiguration, problems: [ConfigurationProblem] = [],
                classifier: TrafficClassifier = .standard) {
        self.configuration = configuration
        self.fatalProblems = problems.filter(\.isFatal)
        self.classifier = classifier
        successResponse = configuration.response == .text ? .text(200, "OK") : .gif()
    }

    static let retryAfterSeconds = "10"

    /// What the checks made of a hit: the event, and for a click its target.
    struct Accepted {
        var event: PixelEvent
        var location: String?
        var scrubbedNames: [String]
        var scrubbedPairs: Int
        /// The query's `context.ip` was not stored (an unsigned URL).
        var ignoresQueryAddress: Bool
    }

    /// `context.traffic` for a marked hit, and for a bot the page its rule cites.
    func mark(_ verdict: TrafficClassifier.Verdict) -> TrafficMark {
        let rule = verdict.ruleID.isEmpty ? nil : verdict.ruleID
        let url = verdict.hitClass == .bot ? rule.flatMap(classifier.url(ofRule:)) : nil
        return TrafficMark(hitClass: verdict.hitClass, rule: rule, ruleURL: url)
    }

    /// The outcome of one request: routing and method first, then the
    /// configuration, then the hit's class and the visitor's consent, then
    /// the event engine (`EventEngine`) with SPEC §4's checks in order,
    /// then the sink, unless the hit is one the operator chose to drop.
    ///
    /// - Parameter workspace: the engine's memory; a serving thread passes
    ///   its own for every request.
    public func handle(_ request: PixelRequest, sink: EventSink, nowMillis: Int64, newMessageId: () -> String,
                       workspace: EventWorkspace = EventWorkspace()) -> HandlerOutcome {
        guard let route = request.route else {
            if request.isHealthCheck { return health(request, sink: sink) }
            // Logged as a refused hit (PIXELGATE_LOG_REFUSED can thin a
            // scanner's), at info: a misrouted pixel must leave a trace.
            return HandlerOutcome(response: .text(404, "not found"), logLevel: .info, logMessage: RouteHint.notFound(request), isRefusal: true)
        }
        // No REQUEST_METHOD is not an HTTP request (CGI/1.1 requires it):
        // refused like any method that is not GET or HEAD, nothing recorded.
        let method = request.method ?? ""
        let isHead = method == "HEAD"
        guard method == "GET" || isHead else {
            return HandlerOutcome(response: .text(405, "method not allowed", extraHeaders: [.init(name: "Allow", value: "GET, HEAD")]),
                                  logLevel: .info,
                                  logMessage: method.isEmpty ? "method not allowed: no REQUEST_METHOD from the web server (not a CGI request)"
                                      : "method not allowed: \(quotable(method.utf8, limit: 16)) \(quotable(request.path.utf8, limit: 160)): a pixel is fetched with GET (or HEAD)",
                                  isRefusal: true)
        }
        if !fatalProblems.isEmpty {
            var response = PixelResponse.text(500, "server misconfigured")
            response.sendsBody = !isHead
            return HandlerOutcome(response: response, logLevel: .error,
                                  logMessage: "server misconfigured: " + fatalProblems.map(\.description).joined(separator: "; "))
        }

        let resolvedIP = ClientAddress.resolve(remoteAddr: request.remoteAddr ?? "", forwardedFor: request.forwardedFor,
                                               trusted: configuration.trustedProxies)
        // The address as pixelgate keeps it anywhere: the event, rejected/, the log.
        let clientIP = configuration.anonymizeIP ? (AddressAnonymizer.anonymized(resolvedIP) ?? "") : resolvedIP
        let asksNotToBeTracked = configuration.consent != .record && request.asksNotToBeTracked
        let keepsClientData = !(asksNotToBeTracked && configuration.consent == .anonymize)
        let query = request.query
        // Signed URLs: with any secret configured, a trailing `sig` (and its
        // `exp` and `st`) is taken off the query before the event is built.
        let signed = configuration.signingKeys.isEmpty ? nil : SignedQuery(query)
        // HEAD stores nothing, and when every class is recorded alike the
        // class changes nothing: neither needs the headers read, unless the
        // class header asks for the verdict whatever is done with it.
        var verdict = !configuration.classHeader && (isHead || configuration.hitClasses.recordsAll)
            ? .unclassified : classifier.classify(request, address: resolvedIP)
        // A click sooner after its link was signed than a person reads mail
        // is a scanner's, whatever agent it borrows. (An `st` that is not
        // the signer's fails the signature check below and stores nothing.)
        // A link that says it was signed more than 2 s ahead of this clock
        // came from a signer whose clock is off: no time to compare with.
        if route == .click, configuration.earlyClickMillis > 0, let signedAt = signed?.signedAtSeconds {
            let age = nowMillis - signedAt * 1000
            if age > -2000 && age < Int64(configuration.earlyClickMillis) { verdict = .clickBeforeRead }
        }
        let hitClass = verdict.hitClass
        let action = configuration.hitClasses[hitClass]
        let drops = action == .drop || asksNotToBeTracked && configuration.consent == .drop
        // The address as stored and logged for this hit: none at all for a
        // visitor who asked not to be tracked, whether the hit is kept
        // without it (anonymize) or not kept (drop).
        let storedIP = asksNotToBeTracked ? "" : clientIP

        let eventQuery = signed?.eventQuery ?? query[...]
        // The day's secret could not be had, and where a click was going.
        var secretFailure: (error: SinkError, location: String?)?
        let built: Result<Accepted, PixelError> = eventQuery.withUnsafeBufferPointer { buffer in
            Result { () throws(PixelError) -> Accepted in
                let facts = HitFacts(receivedAtMillis: nowMillis, messageId: newMessageId(),
                                     userAgent: keepsClientData ? request.userAgent : nil,
                                     clientIP: storedIP,
                                     traffic: action == .mark ? mark(verdict) : nil,
                                     keepsClientData: keepsClientData, anonymizesAddresses: configuration.anonymizeIP,
                                     secretNames: configuration.secretNames)
                // SPEC §4's order: the query and the write key's presence
                // (the draft), the allow-list, the signature, identity.
                var draft = try EventEngine.draft(type: route.eventType, route: route, query: buffer, facts: facts,
                                                  limits: configuration.limits, workspace: workspace)
                try draft.checkWriteKey(allowed: configuration.writeKeys)
                // Only signed click links redirect: never an open redirect.
                if route == .click && configuration.signingKeys[draft.writeKey] == nil { throw .unsignedClick }
                try signed?.check(writeKey: draft.writeKey, secrets: configuration.signingKeys, route: route, nowMillis: nowMillis)
                // Past the check, a key with a secret had a valid signature:
                // only then may the URL choose its own `context.ip`.
                draft.takesQueryAddress = configuration.signingKeys[draft.writeKey] != nil
                // SPEC §8: a derived id stands in for a missing one through
                // every check; the real one is made only for a hit that is
                // stored (not HEAD, not dropped), so no other touches the spool.
                let derives = configuration.deriveAnonymousId == .daily && !draft.hasAnonymousId
                if derives { draft.setAnonymousId(DerivedAnonymousId.placeholder) }
                try draft.checkIdentity()
                let location = route == .click ? try draft.clickLocation() : nil
                if derives && !isHead && !drops {
                    if asksNotToBeTracked {
                        // A visitor who asked not to be tracked is counted,
                        // never linked: an id of this hit alone.
                        draft.setAnonymousId(newMessageId())
                    } else {
                        switch Result(catching: { () throws(SinkError) in try sink.dailySecret(day: DerivedAnonymousId.day(ofMillis: nowMillis)) }) {
                        case .success(let secret):
                            // The address as pixelgate keeps it (shortened
                            // under PIXELGATE_ANONYMIZE_IP), and the agent.
                            draft.setAnonymousId(DerivedAnonymousId.make(secret: secret, writeKey: draft.writeKey,
                                                                         clientAddress: clientIP, userAgent: request.userAgent))
                        case .failure(let error):
                            secretFailure = (error, location)
                            throw .missingAnonymousId
                        }
                    }
                }
                let scrubbed = draft.scrubbedNames, scrubbedPairs = draft.scrubbedPairs
                let ignoresAddress = draft.ignoresQueryAddress
                return Accepted(event: try draft.finish(), location: location, scrubbedNames: scrubbed, scrubbedPairs: scrubbedPairs,
                                ignoresQueryAddress: ignoresAddress)
            }
        }

        var outcome: HandlerOutcome
        switch built {
        case .failure where secretFailure != nil:
            // The hit is good; the spool could not give the day's secret:
            // answered as an event that could not be stored, never a 400,
            // and a click still goes where its link says.
            let (error, location) = secretFailure!
            let misconfigured = error.isMisconfiguration
            if let location {
                outcome = HandlerOutcome(response: PixelHandler.redirect(location))
            } else {
                outcome = HandlerOutcome(response: misconfigured ? .text(500, "server misconfigured")
                    : .text(503, "event not stored, try again later", extraHeaders: [.init(name: "Retry-After", value: PixelHandler.retryAfterSeconds)]))
            }
            _ = sink.count(.unstored(misconfigured ? .misconfigured : .unavailable))
            outcome.logLevel = .error
            outcome.logMessage = "event not stored: \(error.detail)"
        case .failure(let error):
            // A refused hit is kept in rejected/ under the event's privacy
            // rules, and not at all when its kind is dropped.
            let kept = isHead || drops || route == .click ? nil
                : StoredQuery.cleaned(query, secretNames: configuration.secretNames, keepsClientData: keepsClientData,
                                      anonymizesAddresses: configuration.anonymizeIP)
            outcome = refused(error, route: route, keeping: kept, clientIP: storedIP, isHead: isHead, sink: sink, nowMillis: nowMillis)
        case .success(let accepted):
            outcome = HandlerOutcome(response: accepted.location.map(PixelHandler.redirect) ?? success(),
                                     isStoredSuccess: accepted.location == nil)
            var notes: [String] = []
            if accepted.scrubbedPairs > 0 && !isHead {
                notes.append("removed \(accepted.scrubbedPairs) parameter\(accepted.scrubbedPairs == 1 ? "" : "s") "
                    + "whose names look like secrets from a \(route.rawValue) hit: "
                    + accepted.scrubbedNames.map { "'\(quotable(Array($0.utf8), limit: 64))'" }.joined(separator: ", "))
            }
            if isHead {
                // HEAD probes are answered like GET and leave no trace.
            } else if drops {
                let reason = action == .drop ? DroppedHit(hitClass) : .consent
                if let note = sink.count(.dropped(reason)) {
                    notes.append("a dropped \(reason.rawValue) hit was \(note)")
                    outcome.logLevel = .warn
                }
                outcome.isStoredSuccess = false
            } else {
                do {
                    try sink.store(accepted.event)
                } catch {
                    notes.append("event not stored: \(error.detail)")
                    // Counted where the spool still takes a count (a full
                    // disk does: the counter is rewritten in place).
                    if let note = sink.count(.unstored(error.isMisconfiguration ? .misconfigured : .unavailable)), !error.isMisconfiguration {
                        notes.append("nor counted: \(note)")
                    }
                    if accepted.location != nil {
                        // The click matters more than the count: the
                        // visitor still goes where the link said.
                        outcome.isStoredSuccess = false
                    } else if error.isMisconfiguration {
                        notes[notes.count - 1] = "server misconfigured, event not stored: \(error.detail)"
                        outcome = HandlerOutcome(response: .text(500, "server misconfigured"))
                    } else {
                        outcome = HandlerOutcome(
                            response: .text(503, "event not stored, try again later",
                                            extraHeaders: [.init(name: "Retry-After", value: PixelHandler.retryAfterSeconds)]))
                    }
                    outcome.logLevel = .error
                }
            }
            if !notes.isEmpty {
                outcome.logLevel = outcome.logLevel ?? .info
                outcome.logMessage = notes.joined(separator: "; ")
            } else if configuration.logLevel == .debug && outcome.isStoredSuccess {
                // Only built when asked for: this is every hit's path.
                outcome.logLevel = .debug
                outcome.logMessage = "stored \(route.rawValue) hit, \(accepted.event.eventJSON.count) bytes of event (ip=\(storedIP.isEmpty ? "-" : storedIP))"
            }
            if configuration.logLevel == .debug && accepted.ignoresQueryAddress, let message = outcome.logMessage {
                outcome.logMessage = message + "; context.ip from the query not stored: only a signed URL may set it"
            }
        }
        if configuration.classHeader {
            let rule = verdict.ruleID.isEmpty ? "" : "; rule=" + verdict.ruleID
            outcome.response.headers.append(.init(name: "X-Pixelgate-Class", value: verdict.hitClass.rawValue + rule))
        }
        outcome.response.sendsBody = !isHead
        return outcome
    }

    public func success() -> PixelResponse { successResponse }

    /// `GET …/pixel/v1/health`: 200 while a hit's event can be kept, 503
    /// (with the reason in the log, not in the public answer) while it
    /// cannot. Nothing is recorded or counted.
    func health(_ request: PixelRequest, sink: EventSink) -> HandlerOutcome {
        let method = request.method ?? ""
        guard method == "GET" || method == "HEAD" else {
            return HandlerOutcome(response: .text(405, "method not allowed", extraHeaders: [.init(name: "Allow", value: "GET, HEAD")]))
        }
        var outcome: HandlerOutcome
        if !fatalProblems.isEmpty {
            outcome = HandlerOutcome(response: .text(503, "server misconfigured"), logLevel: .error,
                                     logMessage: "health: server misconfigured: " + fatalProblems.map(\.description).joined(separator: "; "))
        } else if let problem = sink.unavailability(minimumFreeBytes: configuration.limits.maxEventBytes) {
            outcome = HandlerOutcome(response: .text(503, "events cannot be stored",
                                                     extraHeaders: [.init(name: "Retry-After", value: PixelHandler.retryAfterSeconds)]),
                                     logLevel: .error, logMessage: "health: events cannot be stored: \(problem)")
        } else {
            outcome = HandlerOutcome(response: .text(200, "OK"))
        }
        outcome.response.sendsBody = method != "HEAD"
        return outcome
    }

    /// A click's answer: `302 Found` to the link's target.
    static func redirect(_ location: String) -> PixelResponse {
        var response = PixelResponse.text(302, "Found", extraHeaders: [.init(name: "Location", value: location)])
        response.body = []
        return response
    }

    /// - Parameter query: what `rejected/` keeps of the query; nil keeps
    ///   no record (HEAD probes, refused click links, dropped kinds of hit).
    func refused(_ error: PixelError, route: PixelRoute, keeping query: [UInt8]?, clientIP: String, isHead: Bool,
                 sink: EventSink, nowMillis: Int64) -> HandlerOutcome {
        var message = "refused \(route.rawValue) hit: \(error.status) \(error.message) (ip=\(clientIP.isEmpty ? "-" : clientIP))"
        if !isHead, let note = sink.count(.refused(code: error.code)) { message += "; \(note)" }
        if let query {
            let hit = RejectedHit(receivedAtMillis: nowMillis, status: error.status, reason: error.message, code: error.code,
                                  route: route.rawValue, clientIP: clientIP, query: query)
            if let note = sink.recordRejected(hit) { message += "; \(note)" }
        }
        let gif = configuration.response == .gifAlways && route != .click
        let response: PixelResponse = gif ? .gif() : .text(error.status, error.message)
        return HandlerOutcome(response: response, logLevel: isHead ? nil : .warn, logMessage: isHead ? nil : message, isRefusal: true)
    }
}
