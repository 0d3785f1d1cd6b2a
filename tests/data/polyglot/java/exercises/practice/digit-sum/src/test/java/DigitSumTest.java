import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

public class DigitSumTest {

    @Test
    public void zero() {
        assertThat(new DigitSum().of(0)).isEqualTo(0);
    }

    @Disabled("Remove to run test")
    @Test
    @DisplayName("several digits")
    public void severalDigits() {
        assertThat(new DigitSum().of(4096)).isEqualTo(19);
    }

    @Disabled("Remove to run test")
    @Test
    public void allNines() {
        assertThat(new DigitSum().of(999999)).isEqualTo(54);
    }
}
