/// The one broadcast the elementwise `multiply` allows: an operand of shape `[1, ..., 1, C]`
/// (squeeze-excite scales, `1 x 1 x C`) against one of shape `[..., C]` of the same rank. The small
/// operand's value for output element `i` of sample `n` is `small[n * C + i % C]`.
public enum ChannelBroadcast {
    /// The output shape of `a * b`, or nil when neither broadcasts to the other.
    public static func output(_ a: [Int], _ b: [Int]) -> [Int]? {
        if a == b { return a }
        if isChannelVector(b, of: a) { return a }
        if isChannelVector(a, of: b) { return b }
        return nil
    }

    /// True when `small` is `[1, ..., 1, C]` with the rank and last axis of `full`.
    public static func isChannelVector(_ small: [Int], of full: [Int]) -> Bool {
        small.count == full.count && small.last == full.last && small.dropLast().allSatisfy { $0 == 1 }
    }
}
