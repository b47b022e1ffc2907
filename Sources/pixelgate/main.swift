// pixelgate: the RudderStack Pixel API as one CGI/FastCGI executable.
// Reads the command line and the configuration, picks the transport, runs.
import PixelServer
import PixelSystem

// Over a file-size limit (RLIMIT_FSIZE, as shared hosts set), write(2) must
// fail with EFBIG so the spool can take the partial line back and answer
// 503; by default SIGXFSZ would kill the process with no answer at all.
Signals.ignoreFileSizeLimitSignal()

ProcessControl.exit(PixelgateCommand.run { Array(CommandLine.arguments.dropFirst()) })
