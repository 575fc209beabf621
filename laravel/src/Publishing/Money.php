<?php

namespace PosSync\Laravel\Publishing;

/**
 * Money leaves the server as an integer in minor units (§2): a `decimal:2` cast's "1.50"
 * becomes 150, computed on the decimal text so no float rounding creeps in.
 */
final class Money
{
    public static function toMinorUnits(mixed $amount, int $decimals = 2): ?int
    {
        if ($amount === null) {
            return null;
        }
        if (is_int($amount)) {
            return $amount * 10 ** $decimals;
        }
        $text = is_float($amount) ? sprintf('%.' . ($decimals + 6) . 'F', $amount) : trim((string) $amount);
        if (! preg_match('/^([+-]?)(\d*)(?:\.(\d*))?$/', $text, $m) || ($m[2] === '' && ($m[3] ?? '') === '')) {
            throw new \InvalidArgumentException("not a decimal amount: '{$text}'");
        }
        $fraction = str_pad($m[3] ?? '', $decimals + 1, '0');
        $units = (int) (($m[2] === '' ? '0' : $m[2]) . substr($fraction, 0, $decimals));
        if ((int) $fraction[$decimals] >= 5) {
            $units++;                                   // half away from zero
        }

        return $m[1] === '-' ? -$units : $units;
    }
}
