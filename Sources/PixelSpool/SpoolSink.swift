import PixelCore
import PixelSystem

/// The default sink: each accepted event becomes one line in the spool.
public final class SpoolSink: EventSink {
    public let writer: SpoolWriter
    private let log: (LogLevel, String) -> Void

    /// - Parameter log: receives what the spool did besides appending
    ///   (sealing, cutting a torn line left by a killed writer).
    public init(writer: SpoolWriter, log: @escaping (LogLevel, String) -> Void) {
        self.writer = writer
        self.log = log
    }

    public func store(_ event: PixelEvent) throws(SinkError) {
        let report: AppendReport
        do {
            report = try writer.append(event.recordLine)
        } catch {
            throw SinkError(error.description, isMisconfiguration: error.unsafeBecause != nil)
        }
        if report.repairedBytes > 0 {
            log(.warn, "cut \(report.repairedBytes) bytes of a torn last line from \(writer.layout.activeFile) (a writer died mid-write; that hit was never answered 200)")
        }
        if let sealed = report.sealedAs {
            log(.info, "sealed \(writer.layout.activeFile) as \(sealed)")
        }
        for problem in report.problems {
            log(.error, "event stored, but \(problem)")
        }
    }

    public func dailySecret(day: Int64) throws(SinkError) -> [UInt8] {
        do {
            return try writer.dailySecret(day: day)
        } catch {
            throw SinkError("the daily secret for derived anonymous ids: \(error)", isMisconfiguration: error.unsafeBecause != nil)
        }
    }

    public func count(_ hit: HitCount) -> String? {
        do {
            switch hit {
            case .dropped(let reason): try writer.countDropped(reason)
            case .refused(let code): try writer.countRefused(code)
            case .unstored(let reason): try writer.countUnstored(reason)
            }
            return nil
        } catch {
            return "not counted: \(error)"
        }
    }

    /// The spool's own checks made afresh (the path, its owner and modes,
    /// the lock, creating a file, the active file), then the room left on
    /// its file system.
    public func unavailability(minimumFreeBytes: Int) -> String? {
        SpoolStatus.unavailability(writer.layout, minimumFreeBytes: minimumFreeBytes)
    }

    public func recordRejected(_ hit: RejectedHit) -> String? {
        do {
            if try writer.appendRejected(hit.recordLine) { return nil }
            return "not kept in rejected/: its size cap (\(writer.settings.rejectedMaxBytes) bytes) is reached"
        } catch {
            return "not kept in rejected/: \(error)"
        }
    }
}
