package bench

// Median exposes median to the external tests.
var Median = median
