package pxprune.datasets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;

class SeedsTest {

    @Test
    void deriveDependsOnSeedAndEveryKeyInOrder() {
        assertEquals(Seeds.derive(1, 2, 3), Seeds.derive(1, 2, 3));
        assertNotEquals(Seeds.derive(1, 2, 3), Seeds.derive(1, 3, 2));
        assertNotEquals(Seeds.derive(1, 2), Seeds.derive(2, 2));
        assertNotEquals(Seeds.derive(1), Seeds.derive(1, 0));
        assertEquals(Seeds.rng(4, 5).nextLong(), Seeds.rng(4, 5).nextLong());
    }
}
