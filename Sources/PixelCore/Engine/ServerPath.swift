/// The paths the server reads and writes, made once.
enum ServerPath {
    static let type = Word.path(.type)
    static let channel = Word.path(.channel)
    static let contextUserAgent = Word.path(.context, .userAgent)
    static let contextIP = Word.path(.context, .ip)
    static let contextTraffic = Word.path(.context, .traffic)
    static let contextIsBot = Word.path(.context, .isBot)
    static let contextBot = Word.path(.context, .bot)
    static let propertiesURL = Word.path(.properties, .url)
    static let event = Word.path(.event)
    static let integrations = Word.path(.integrations)
    static let messageId = Word.path(.messageId)
    static let originalTimestamp = Word.path(.originalTimestamp)
    static let sentAt = Word.path(.sentAt)
    static let timestamp = Word.path(.timestamp)
    static let receivedAt = Word.path(.receivedAt)
    static let requestIP = Word.path(.requestIP)
    static let properties = Word.path(.properties)
    static let contextPage = Word.path(.context, .page)
    static let propertiesField = EventBuilder.mirroredPageFields.map { Word.path(.properties, $0) }
    static let contextPageField = EventBuilder.mirroredPageFields.map { Word.path(.context, .page, $0) }
}
