class DigitSum {

    long of(long n) {
        long total = 0;
        for (; n > 0; n /= 10) {
            total += n % 10;
        }
        return total;
    }

}
