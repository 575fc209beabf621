<?php

namespace PosSync\Laravel\Sync;

use PosSync\Laravel\Protocol\EntityType;
use PosSync\Laravel\Protocol\Limits;

/** The shapes the server looks inside (§5): sales and stock adjustments, and what they do to stock. */
final class StockEffects
{
    /**
     * The stock movements of a sale or a stock adjustment, or why its payload is unusable.
     *
     * @return list<array{0: string, 1: int|float}>|string
     */
    public static function of(string $type, string $entityId, mixed $payload): array|string
    {
        $problem = self::objectWithId($entityId, $payload);
        if ($problem !== null) {
            return $problem;
        }
        if ($type === EntityType::SALE) {
            $lines = $payload->lines ?? null;
            if (! is_array($lines)) {
                return "a sale needs an array field 'lines'";
            }
            if ($lines === []) {
                return 'a sale needs at least one line';
            }
            $effects = [];
            foreach ($lines as $i => $line) {
                if (! $line instanceof \stdClass) {
                    return "lines[{$i}] must be an object";
                }
                $product = $line->product_id ?? null;
                if (! is_string($product) || $product === '') {
                    return "lines[{$i}] needs a non-empty string field 'product_id'";
                }
                $quantity = $line->quantity ?? null;
                if (! is_int($quantity) && ! is_float($quantity)) {
                    return "lines[{$i}] needs a number field 'quantity'";
                }
                $effects[] = [$product, -$quantity];
            }

            return $effects;
        }
        $product = $payload->product_id ?? null;
        if (! is_string($product) || $product === '') {
            return "a stock adjustment needs a non-empty string field 'product_id'";
        }
        $delta = $payload->quantity_delta ?? null;
        if (! is_int($delta) && ! is_float($delta)) {
            return "a stock adjustment needs a number field 'quantity_delta'";
        }

        return [[$product, $delta]];
    }

    /** Why a payload is not a JSON object whose string `id` is the entity id, or null. */
    public static function objectWithId(string $entityId, mixed $payload): ?string
    {
        if (! $payload instanceof \stdClass) {
            return 'the payload must be a JSON object';
        }
        $id = $payload->id ?? null;
        if (! is_string($id)) {
            return "the payload needs a string field 'id' equal to entity_id";
        }
        if ($id !== $entityId) {
            return sprintf("the payload id '%s' differs from entity_id '%s'", mb_substr($id, 0, Limits::MAX_ID_CHARS), $entityId);
        }

        return null;
    }
}
