/// Spaces and tabs off both ends: settings lists, `X-Forwarded-For`
/// entries, a data plane's answer.
extension Substring {
    public func trimmingSpaces() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
