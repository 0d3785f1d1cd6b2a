class BadPairException extends RuntimeException {
    BadPairException(String pair) {
        super("not a pair: " + pair);
    }
}
