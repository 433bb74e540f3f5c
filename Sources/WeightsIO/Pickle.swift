import Foundation

/// A value produced by the restricted unpickler. Nothing here can run code: callables are only ever the
/// few allow-listed names a PyTorch state dict needs, and they are interpreted, never looked up.
public indirect enum PickleValue: Equatable {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer too wide for Int (LONG1 of more than 8 bytes), as its little-endian two's-complement bytes.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list([PickleValue])
    case dict([(PickleValue, PickleValue)])
    /// An allow-listed global, e.g. ("torch", "FloatStorage").
    case global(String, String)
    /// A tensor view: storage key, element type name, offset, size, stride.
    case tensor(TensorReference)
    /// A persistent id before it is resolved (a storage reference).
    case storage(StorageReference)

    public static func == (a: PickleValue, b: PickleValue) -> Bool { "\(a)" == "\(b)" }

    var asInt: Int? { if case let .int(i) = self { return i }; if case let .bool(b) = self { return b ? 1 : 0 }; return nil }
    var asString: String? { if case let .string(s) = self { return s }; return nil }
    var asSequence: [PickleValue]? {
        switch self { case let .tuple(t): return t; case let .list(l): return l; default: return nil }
    }
}

public struct StorageReference: Equatable {
    public let key: String
    /// "Float", "Long", "Half", "BFloat16", "Double", "Int", …
    public let dtype: String
    public let elementCount: Int
}

public struct TensorReference: Equatable {
    public let storage: StorageReference
    public let offset: Int
    public let shape: [Int]
    public let strides: [Int]
}

public struct PickleError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}

/// Interprets the pickle opcodes a `torch.save`d state dict uses (protocols 2–5) on a private stack machine.
/// Any other global — `os.system`, `builtins.eval`, a model class — is refused by name before anything else
/// happens, so a malicious checkpoint can only ever produce an error.
public struct RestrictedUnpickler {
    public static let allowedGlobals: Set<String> = [
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
        "torch.FloatStorage", "torch.LongStorage", "torch.IntStorage", "torch.HalfStorage",
        "torch.BFloat16Storage", "torch.DoubleStorage", "torch.ByteStorage", "torch.BoolStorage",
        "torch.ShortStorage", "torch.CharStorage",
    ]

    let bytes: [UInt8]
    public private(set) var position: Int

    public init(bytes: [UInt8], position: Int = 0) { self.bytes = bytes; self.position = position }

    // MARK: reading primitives

    mutating func byte() throws -> UInt8 {
        guard position < bytes.count else { throw PickleError("pickle ends early at byte \(position)") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.count - position else { throw PickleError("pickle ends early: \(n) bytes wanted at \(position)") }
        defer { position += n }
        return bytes[position..<position + n]
    }

    mutating func littleEndian(_ n: Int) throws -> UInt64 {
        var v: UInt64 = 0
        for (i, b) in try take(n).enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        return v
    }

    /// A length or index field: an unsigned little-endian number that must fit an Int.
    mutating func length(_ n: Int) throws -> Int {
        let v = try littleEndian(n)
        guard let i = Int(exactly: v) else { throw PickleError("pickle length \(v) at byte \(position - n) is too large") }
        return i
    }

    mutating func line() throws -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else { throw PickleError("unterminated line in pickle") }
        defer { position = end + 1 }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }

    // MARK: the machine

    /// Reads one pickle (up to its STOP) and returns its value.
    /// Containers nested deeper than this are refused: a state dict nests a few levels, and a hostile pickle
    /// nesting thousands would overflow the call stack when its value is compared, printed or freed.
    public static let maxNesting = 100

    public mutating func load() throws -> PickleValue {
        // Every stack slot and memo entry carries its value's nesting depth (0 for scalars).
        var stack: [PickleValue] = [], depths: [Int] = []
        var marks: [Int] = []
        var memo: [Int: (PickleValue, Int)] = [:]
        var lastDepth = 0

        func push(_ v: PickleValue, depth: Int = 0) throws {
            guard depth <= Self.maxNesting else {
                throw PickleError("pickle nests containers more than \(Self.maxNesting) deep; not a state dict")
            }
            stack.append(v); depths.append(depth)
        }
        func pop() throws -> PickleValue {
            guard let v = stack.popLast(), let d = depths.popLast() else { throw PickleError("pickle stack underflow") }
            lastDepth = d
            return v
        }
        func popMark() throws -> [PickleValue] {
            guard let m = marks.popLast(), m <= stack.count else { throw PickleError("pickle MARK missing") }
            defer { stack.removeSubrange(m...); depths.removeSubrange(m...) }
            lastDepth = depths[m...].max() ?? 0
            return Array(stack[m...])
        }
        func string(_ s: ArraySlice<UInt8>) -> PickleValue { .string(String(decoding: s, as: UTF8.self)) }

        while true {
            let op = try byte()
            switch op {
            case 0x80: _ = try byte()                                   // PROTO
            case 0x95: _ = try littleEndian(8)                          // FRAME
            case 0x2E: return try pop()                                 // STOP
            case 0x28: marks.append(stack.count)                        // MARK
            case 0x4E: try push(.none)                              // NONE
            case 0x88: try push(.bool(true))                        // NEWTRUE
            case 0x89: try push(.bool(false))                       // NEWFALSE
            case 0x4A: try push(.int(Int(Int32(truncatingIfNeeded: try littleEndian(4)))))  // BININT
            case 0x4B: try push(.int(Int(try byte())))              // BININT1
            case 0x4D: try push(.int(Int(try littleEndian(2))))     // BININT2
            case 0x8A:                                                  // LONG1
                let n = Int(try byte())
                if n > 8 { try push(.bigInt(Array(try take(n)))); continue }
                var v: UInt64 = 0
                let raw = try take(n)
                for (i, b) in raw.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
                if n > 0 && n < 8 && raw.last! & 0x80 != 0 { v |= ~UInt64(0) << (8 * UInt64(n)) }  // sign-extend
                try push(.int(Int(bitPattern: UInt(v))))
            case 0x47: try push(.float(Double(bitPattern: try (0..<8).reduce(UInt64(0)) { acc, _ in (acc << 8) | UInt64(try byte()) })))  // BINFLOAT, big-endian
            case 0x58: try push(string(try take(try length(4))))  // BINUNICODE
            case 0x8C: try push(string(try take(Int(try byte()))))           // SHORT_BINUNICODE
            case 0x8D: try push(string(try take(try length(8))))  // BINUNICODE8
            case 0x54: try push(string(try take(try length(4))))  // BINSTRING
            case 0x55: try push(string(try take(Int(try byte()))))           // SHORT_BINSTRING
            case 0x42: try push(.bytes(Array(try take(try length(4)))))  // BINBYTES
            case 0x43: try push(.bytes(Array(try take(Int(try byte())))))            // SHORT_BINBYTES
            case 0x29: try push(.tuple([]))                         // EMPTY_TUPLE
            case 0x74: let t = try popMark(); try push(.tuple(t), depth: lastDepth + 1)              // TUPLE
            case 0x85: let a = try pop(); try push(.tuple([a]), depth: lastDepth + 1)                // TUPLE1
            case 0x86: let b = try pop(), db = lastDepth, a = try pop(); try push(.tuple([a, b]), depth: max(db, lastDepth) + 1)  // TUPLE2
            case 0x87: let c = try pop(), dc = lastDepth, b = try pop(), db = lastDepth, a = try pop()
                try push(.tuple([a, b, c]), depth: max(dc, db, lastDepth) + 1)  // TUPLE3
            case 0x5D: try push(.list([]))                          // EMPTY_LIST
            case 0x7D: try push(.dict([]))                          // EMPTY_DICT
            case 0x61:                                                  // APPEND
                let v = try pop(), dv = lastDepth
                guard case var .list(l) = try pop() else { throw PickleError("APPEND to a non-list") }
                l.append(v); try push(.list(l), depth: max(lastDepth, dv + 1))
            case 0x65:                                                  // APPENDS
                let items = try popMark(), di = lastDepth
                guard case var .list(l) = try pop() else { throw PickleError("APPENDS to a non-list") }
                l += items; try push(.list(l), depth: max(lastDepth, di + 1))
            case 0x73:                                                  // SETITEM
                let v = try pop(), dv = lastDepth, k = try pop(), dk = lastDepth
                guard case var .dict(d) = try pop() else { throw PickleError("SETITEM on a non-dict") }
                d.append((k, v)); try push(.dict(d), depth: max(lastDepth, max(dv, dk) + 1))
            case 0x75:                                                  // SETITEMS
                let items = try popMark(), di = lastDepth
                guard items.count % 2 == 0, case var .dict(d) = try pop() else { throw PickleError("SETITEMS on a non-dict") }
                for i in stride(from: 0, to: items.count, by: 2) { d.append((items[i], items[i + 1])) }
                try push(.dict(d), depth: max(lastDepth, di + 1))
            case 0x71: memo[Int(try byte())] = stack.last.map { ($0, depths.last!) }               // BINPUT
            case 0x72: memo[try length(4)] = stack.last.map { ($0, depths.last!) }      // LONG_BINPUT
            case 0x94: memo[memo.count] = stack.last.map { ($0, depths.last!) }                    // MEMOIZE
            case 0x68, 0x6A:                                            // BINGET, LONG_BINGET
                let k = op == 0x68 ? Int(try byte()) : try length(4)
                guard let (v, d) = memo[k] else { throw PickleError("pickle memo \(k) is empty") }
                try push(v, depth: d)
            case 0x63:                                                  // GLOBAL
                let module = try line(), name = try line()
                try push(try allowedGlobal(module, name))
            case 0x93:                                                  // STACK_GLOBAL
                let name = try pop(), module = try pop()
                guard let m = module.asString, let n = name.asString else { throw PickleError("STACK_GLOBAL needs two strings") }
                try push(try allowedGlobal(m, n))
            case 0x51:                                                  // BINPERSID
                let pid = try pop(); try push(try persistent(pid), depth: lastDepth)
            case 0x52:                                                  // REDUCE
                let args = try pop(), da = lastDepth, callable = try pop()
                try push(try reduce(callable, args), depth: max(da, lastDepth))
            case 0x62:                                                  // BUILD: state on an OrderedDict (its _metadata); keep the dict
                _ = try pop()
            default:
                throw PickleError(String(format: "pickle opcode 0x%02X at byte %d is not allowed in a state dict", op, position - 1))
            }
        }
    }

    func allowedGlobal(_ module: String, _ name: String) throws -> PickleValue {
        let full = module + "." + name
        guard Self.allowedGlobals.contains(full) else {
            throw PickleError("refusing to load global '\(full)': a weights file may only reference tensors, storages and OrderedDict")
        }
        return .global(module, name)
    }

    /// ('storage', torch.XStorage, key, location, numel[, view]) → a storage reference.
    func persistent(_ pid: PickleValue) throws -> PickleValue {
        guard let t = pid.asSequence, t.count >= 5, t[0].asString == "storage",
              case let .global(_, typeName) = t[1], let key = t[2].asString, let numel = t[4].asInt, numel >= 0 else {
            throw PickleError("unsupported persistent id \(pid)")
        }
        return .storage(StorageReference(key: key, dtype: String(typeName.dropLast("Storage".count)), elementCount: numel))
    }

    func reduce(_ callable: PickleValue, _ args: PickleValue) throws -> PickleValue {
        guard case let .global(module, name) = callable, let a = args.asSequence else { throw PickleError("REDUCE on \(callable)") }
        switch module + "." + name {
        case "collections.OrderedDict":
            return .dict([])
        case "torch._utils._rebuild_tensor_v2":
            guard a.count >= 4, case let .storage(s) = a[0], let offset = a[1].asInt,
                  let size = a[2].asSequence?.compactMap(\.asInt), let stride = a[3].asSequence?.compactMap(\.asInt),
                  size.count == stride.count, offset >= 0, size.allSatisfy({ $0 >= 0 }) else {
                throw PickleError("malformed _rebuild_tensor_v2 arguments")
            }
            return .tensor(TensorReference(storage: s, offset: offset, shape: size, strides: stride))
        case "torch._utils._rebuild_parameter":
            guard let first = a.first else { throw PickleError("malformed _rebuild_parameter arguments") }
            return first
        default:
            throw PickleError("refusing to call \(module).\(name)")
        }
    }
}
