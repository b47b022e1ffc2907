/// What a pool thread gives a request once the door (`FastCGIRequestReader`)
/// has read it whole. One handler per thread: it is never called from two
/// threads.
public protocol ConnectionHandler: AnyObject {
    /// Answers one request: its bytes, exactly as the door accepted them,
    /// in; the FastCGI records of the answer out (through its
    /// `FCGI_END_REQUEST`), or nil when it could not be answered.
    func answer(_ request: [UInt8]) -> [UInt8]?
    /// Where the pool reports what goes wrong.
    var logger: Logger { get }
}
