import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

public class PairListTest {

    @Test
    public void twoPairs() {
        assertThat(new PairList().parse("a=1,b=2").getInt("b")).isEqualTo(2);
    }

    @Disabled("Remove to run test")
    @Test
    public void badPair() {
        assertThatExceptionOfType(BadPairException.class).isThrownBy(() -> new PairList().parse("a"));
    }
}
