/// What a pool thread gives a connection once its whole request is there.
/// One handler per thread: it is never called from two threads.
public protocol ConnectionHandler: AnyObject {
    /// Answers the request waiting on `fd`. Returns the connection when the
    /// web server keeps it (the pool parks it until its next request), nil
    /// when the handler closed it.
    func serve(_ fd: Int32) -> Int32?
    /// Where the pool reports what goes wrong.
    var logger: Logger { get }
}
