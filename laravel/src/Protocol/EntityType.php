<?php

namespace PosSync\Laravel\Protocol;

/** The six entity types, in sync priority order (docs/protocol.md §5). */
final class EntityType
{
    public const SALE = 'sale';
    public const STOCK_ADJUSTMENT = 'stock_adjustment';
    public const PRODUCT = 'product';
    public const PRICE = 'price';
    public const CUSTOMER = 'customer';
    public const REPORT = 'report';

    public const ALL = [self::SALE, self::STOCK_ADJUSTMENT, self::PRODUCT, self::PRICE, self::CUSTOMER, self::REPORT];

    /** Types the server publishes (back-office edits); sales and adjustments come from devices. */
    public const SERVER_WRITTEN = [self::PRODUCT, self::PRICE, self::CUSTOMER, self::REPORT];

    public static function isKnown(mixed $type): bool
    {
        return is_string($type) && in_array($type, self::ALL, true);
    }

    /** @throws ApiError unknown_entity_type */
    public static function check(mixed $type, string $where = 'entity_type'): string
    {
        if (! self::isKnown($type)) {
            throw ApiError::unknownEntityType(sprintf(
                "%s: unknown entity type '%s'; expected one of %s",
                $where,
                is_string($type) ? mb_substr($type, 0, 64) : gettype($type),
                implode(', ', self::ALL)
            ));
        }

        return $type;
    }
}
