import Foundation

/// Finds an output that would overwrite an input (or another output of the same command).
///
/// Files are compared by device and inode after following links, not by path, so a symlink, a hard
/// link, `./x` or `../dir/x` naming an input is caught. An output that does not exist yet cannot be
/// an input; two such outputs clash when their resolved paths (folder resolved, link followed) agree.
public enum OutputClash {
    /// A file argument: what it is for (`--report`, "the model") and its path.
    public typealias Role = (role: String, path: String)

    /// A sentence naming both paths of the first clash, or nil when every output is a new file.
    public static func find(outputs: [Role], inputs: [Role]) -> String? {
        for (k, output) in outputs.enumerated() {
            let outputID = identity(output.path)
            for input in inputs {
                if let outputID, outputID == identity(input.path) {
                    return "\(output.role) \(output.path) is the same file as \(input.role) \(input.path); "
                        + "writing it would destroy that input: choose another output path"
                }
            }
            for other in outputs[..<k] {
                let same = outputID.map { $0 == identity(other.path) } ?? false
                if same || resolved(output.path) == resolved(other.path) {
                    return "\(output.role) \(output.path) and \(other.role) \(other.path) are the same file; give them different paths"
                }
            }
        }
        return nil
    }

    /// Device and inode of the file `path` names, links followed; nil when there is none.
    static func identity(_ path: String) -> [UInt64]? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return [UInt64(info.st_dev), UInt64(info.st_ino)]
    }

    /// The absolute path with its folder's links resolved (the file itself may not exist yet).
    static func resolved(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        return url.deletingLastPathComponent().resolvingSymlinksInPath().appendingPathComponent(url.lastPathComponent).path
    }
}
