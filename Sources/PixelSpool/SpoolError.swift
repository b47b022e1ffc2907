import PixelSystem

/// What the spool throws: a failed system call (what, on which path, errno),
/// or a spool refused as unsafe (`init(unsafe:because:)`). The spool adds
/// nothing of its own to what the system says, so it is PixelSystem's type.
public typealias SpoolError = SystemError
