package digitsum

// The standard library's slices package came with Go 1.21 (the benchmark's dnd-character
// reference imports it): this reference needs the image's Go to be that recent.
import "slices"

// DigitSum returns the sum of the decimal digits of n (n >= 0).
func DigitSum(n int) int {
	var digits []int
	for ; n > 0; n /= 10 {
		digits = append(digits, n%10)
	}
	slices.Reverse(digits)
	sum := 0
	for _, d := range digits {
		sum += d
	}
	return sum
}
