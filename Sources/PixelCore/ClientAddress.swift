/// Decides which address a hit came from.
public enum ClientAddress {
    /// `remoteAddr`, unless it is a trusted proxy: then the right-most
    /// `X-Forwarded-For` entry that is not a trusted proxy. Entries left of
    /// that are the client's own claims and are never believed. When every
    /// entry is trusted, the left-most one; when the chosen entry is not an
    /// address, the proxy that reported it.
    public static func resolve(remoteAddr: String, forwardedFor: String?, trusted: [IPNetwork]) -> String {
        guard !trusted.isEmpty, let forwardedFor, let remote = IPAddress(remoteAddr),
              trusted.contains(where: { $0.contains(remote) }) else { return remoteAddr }
        var reporter = remoteAddr
        let entries = forwardedFor.split(separator: ",").map { $0.trimmingSpaces() }
        for entry in entries.reversed() where !entry.isEmpty {
            guard let address = IPAddress(entry) else { return reporter }
            if !trusted.contains(where: { $0.contains(address) }) { return String(entry) }
            reporter = String(entry)
        }
        return reporter
    }
}
