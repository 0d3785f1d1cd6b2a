import org.json.JSONObject;

class PairList {
    JSONObject parse(String text) {
        JSONObject out = new JSONObject();
        for (String part : text.split(",")) {
            Pair pair = new Pair(part);
            out.put(pair.key, pair.value);
        }
        return out;
    }
}
