/// What a request pixelgate has no route for most likely got wrong, for
/// the log line of its 404: the mistakes a first deployment makes are a
/// web server that passes no path, a trailing slash, and a location or
/// rewrite that changes the path on its way.
enum RouteHint {
    static let routes = "/pixel/v1/page, /pixel/v1/track, /pixel/v1/click and /pixel/v1/health"

    static func notFound(_ request: PixelRequest) -> String {
        let path = request.path
        if path.isEmpty {
            return "not found: the web server passed no path (REQUEST_URI, or SCRIPT_NAME and PATH_INFO): "
                + "nginx needs `include fastcgi_params;` in the location, Apache passes them itself"
        }
        let shown = quotable(path.utf8, limit: 160)
        var trimmed = path
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        let withoutSlash = PixelRequest(requestURI: String(trimmed))
        if trimmed.count < path.count, withoutSlash.route != nil || withoutSlash.isHealthCheck {
            return "not found: \(shown): a trailing slash; the routes end \(routes), without one"
        }
        if let at = path.firstOccurrence(of: "/pixel/v1/")?.upperBound {
            return "not found: \(shown): no route '\(quotable(path[at...].utf8, limit: 40))'; the routes end \(routes)"
        }
        return "not found: \(shown): the path must end with one of \(routes); "
            + "a location or RewriteRule that changes the path (a prefix taken off, a script name put in) ends it otherwise"
    }
}
