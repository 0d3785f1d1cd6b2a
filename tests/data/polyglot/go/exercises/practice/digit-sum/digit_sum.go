package digitsum

// DigitSum returns the sum of the decimal digits of n (n >= 0).
func DigitSum(n int) int {
	panic("Please implement the DigitSum function")
}
