// pixelgate: the RudderStack Pixel API as one CGI/FastCGI executable.
// Reads the command line and the configuration, picks the transport, runs.
import PixelServer

#if canImport(Glibc)
import Glibc
#endif

exit(PixelgateCommand.run(Array(CommandLine.arguments.dropFirst())))
