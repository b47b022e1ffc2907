import Testing
@testable import PixelServer

@Suite struct RequestGateTests {
    let gate = RequestGate(maxConnections: 2, maxQueryBytes: 1024)

    func judge(_ bytes: [UInt8], full: Bool = false) -> RequestGate.Reading {
        bytes.withUnsafeBytes { gate.judge($0, full: full) }
    }

    @Test func aWholeRequestIsCompleteAndEveryShorterPrefixIsNot() {
        let whole = FastCGIBytes.request(query: "writeKey=k&event=e")
        #expect(judge(whole) == .request(.complete))
        for cut in stride(from: 0, to: whole.count, by: 3) {
            #expect(judge(Array(whole[0..<cut])) == .request(.incomplete), "cut at \(cut) of \(whole.count)")
        }
    }

    @Test func parametersOverTheCapCloseTheConnection() {
        let big = FastCGIBytes.request(query: String(repeating: "a", count: gate.maxParamsBytes))
        guard case .request(.done(let why)) = judge(big) else {
            Issue.record("over the cap was not refused")
            return
        }
        #expect(why?.contains("over \(gate.maxParamsBytes) bytes") == true)
    }

    @Test func otherRolesAndStrangeRecordsAreRefused() {
        #expect(judge(FastCGIBytes.request(query: "", role: 2)) == .unknownRole(requestId: 1, role: 2))
        #expect(judge([9, 9, 9, 9, 9, 9, 9, 9]) == .request(.done("not a FastCGI connection")))
        let stdinFirst = FastCGIBytes.record(1, [0, 1, 0, 0, 0, 0, 0, 0]) + FastCGIBytes.record(5, [])
        #expect(judge(stdinFirst) == .request(.done("FCGI_STDIN before the parameters ended")))
        let twice = FastCGIBytes.record(1, [0, 1, 0, 0, 0, 0, 0, 0]) + FastCGIBytes.record(1, [0, 1, 0, 0, 0, 0, 0, 0])
        #expect(judge(twice) == .request(.done("a second FCGI_BEGIN_REQUEST")))
    }

    @Test func getValuesIsAnsweredWithTheWorkersCapacity() {
        let ask = FastCGIBytes.record(9, id: 0, FastCGIBytes.pair("FCGI_MAX_CONNS", "") + FastCGIBytes.pair("FCGI_MPXS_CONNS", ""))
        #expect(judge(ask) == .getValues(recordBytes: ask.count, names: ["FCGI_MAX_CONNS", "FCGI_MPXS_CONNS"]))
        let answer = gate.getValuesResult(["FCGI_MAX_CONNS", "FCGI_MPXS_CONNS", "UNKNOWN"])
        #expect(answer == FastCGIBytes.record(10, id: 0, FastCGIBytes.pair("FCGI_MAX_CONNS", "2") + FastCGIBytes.pair("FCGI_MPXS_CONNS", "0")))
    }
}
