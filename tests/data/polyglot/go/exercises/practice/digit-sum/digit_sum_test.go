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
