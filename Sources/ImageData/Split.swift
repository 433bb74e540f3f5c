import Kernels

/// Seeded stratified splits: every class keeps its proportion in each part.
public enum Split {
    /// Indices into `labels` for training and validation. The validation size is round(N·fraction); each
    /// class gets its floor share and the remainders go to the largest fractional parts (ties: lower class),
    /// which for ELPV at 25 % gives 656 of 2,624, as in Deitsch et al.
    public static func stratified(labels: [Int], validationFraction: Double, seed: UInt64) -> (train: [Int], validation: [Int]) {
        precondition(validationFraction > 0 && validationFraction < 1, "validation fraction must be in (0, 1)")
        let classes = (labels.max() ?? -1) + 1
        var byClass = [[Int]](repeating: [], count: classes)
        for (i, l) in labels.enumerated() { byClass[l].append(i) }
        let target = Int((Double(labels.count) * validationFraction).rounded())
        let exact = byClass.map { Double($0.count) * validationFraction }
        var take = exact.map { Int($0) }
        let order = (0..<classes).sorted { (exact[$0] - Double(take[$0]), -$0) > (exact[$1] - Double(take[$1]), -$1) }
        var missing = target - take.reduce(0, +)
        for c in order where missing > 0 && take[c] < byClass[c].count { take[c] += 1; missing -= 1 }
        var g = SeededGenerator(seed: seed)
        var train: [Int] = [], validation: [Int] = []
        for c in 0..<classes {
            var idx = byClass[c]
            idx.shuffle(using: &g)
            validation += idx.prefix(take[c]); train += idx.dropFirst(take[c])
        }
        return (train.sorted(), validation.sorted())
    }

    /// k stratified folds: fold f's validation set holds every k-th sample of each shuffled class.
    public static func kFold(labels: [Int], folds k: Int, seed: UInt64) -> [(train: [Int], validation: [Int])] {
        precondition(k >= 2, "cross-validation needs at least 2 folds")
        let classes = (labels.max() ?? -1) + 1
        var byClass = [[Int]](repeating: [], count: classes)
        for (i, l) in labels.enumerated() { byClass[l].append(i) }
        var g = SeededGenerator(seed: seed)
        var foldOf = [Int](repeating: 0, count: labels.count)
        var next = 0
        for c in 0..<classes {
            var idx = byClass[c]; idx.shuffle(using: &g)
            // Continue the round-robin across classes so fold sizes differ by at most one.
            for i in idx { foldOf[i] = next % k; next += 1 }
        }
        return (0..<k).map { f in
            (labels.indices.filter { foldOf[$0] != f }, labels.indices.filter { foldOf[$0] == f })
        }
    }
}
