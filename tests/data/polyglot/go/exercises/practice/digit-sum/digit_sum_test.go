package digitsum

import "testing"

func TestDigitSum(t *testing.T) {
	for _, tc := range testCases {
		t.Run(tc.description, func(t *testing.T) {
			if got := DigitSum(tc.input); got != tc.expected {
				t.Fatalf("DigitSum(%d) = %d, want %d", tc.input, got, tc.expected)
			}
		})
	}
}

func TestLargeNumber(t *testing.T) {
	if got := DigitSum(1234567890123); got != 51 {
		t.Fatalf("DigitSum(1234567890123) = %d, want 51", got)
	}
}
