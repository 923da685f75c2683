// FixedPoint
