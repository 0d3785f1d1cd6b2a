class Pair {
    final String key;
    final int value;

    Pair(String text) {
        String[] parts = text.split("=", 2);
        if (parts.length != 2) {
            throw new BadPairException(text);
        }
        key = parts[0];
        value = Integer.parseInt(parts[1]);
    }
}
