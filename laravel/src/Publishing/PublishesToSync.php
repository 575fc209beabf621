<?php

namespace PosSync\Laravel\Publishing;

/**
 * For the app's own Eloquent models of master data (products, prices, customers, reports):
 * every create, update and delete is published into the sync records in the same database
 * transaction as the model's own write (the trait wraps save() and delete() in one), with
 * the store's sequence lock, checksum and per-type statistics. A customer edited here while
 * a till edits it too becomes a conflict on the till's upload, as with any server edit.
 *
 * Configure per model:
 *   protected string $syncEntityType = 'product';          // required
 *   protected array $syncFields = ['id' => 'sku', 'name', 'price'];   // payload key => attribute (default: all attributes)
 *   protected array $syncMoney = ['price'];                // payload keys sent as integer minor units
 *   public function syncStoreIds(): array { return [$this->store_id]; }  // default: config default_stores
 *   public function toSyncPayload(): array { ... }         // full control instead of $syncFields
 */
trait PublishesToSync
{
    public static function bootPublishesToSync(): void
    {
        static::saved(function ($model) {
            $model->publishToSync();
        });
        static::deleted(function ($model) {
            $model->unpublishFromSync();
        });
    }

    public function save(array $options = [])
    {
        return $this->getConnection()->transaction(fn () => parent::save($options));
    }

    public function delete()
    {
        return $this->getConnection()->transaction(fn () => parent::delete());
    }

    public function syncEntityType(): string
    {
        return $this->syncEntityType;
    }

    /** @return list<string> */
    public function syncStoreIds(): array
    {
        return (array) config('pos-sync.publishing.default_stores', []);
    }

    /** The record's id on the devices: the payload's `id`. */
    public function syncEntityId(): string
    {
        return (string) ($this->toSyncPayload()['id'] ?? $this->getKey());
    }

    /** @return array<string, mixed> the document the devices receive */
    public function toSyncPayload(): array
    {
        $fields = property_exists($this, 'syncFields') ? $this->syncFields : array_keys($this->attributesToArray());
        $money = property_exists($this, 'syncMoney') ? $this->syncMoney : [];
        $payload = [];
        foreach ($fields as $key => $attribute) {
            $key = is_int($key) ? $attribute : $key;
            $value = $this->getAttribute($attribute);
            if ($value instanceof \DateTimeInterface) {
                $value = $value->format(DATE_ATOM);
            }
            $payload[$key] = in_array($key, $money, true) ? Money::toMinorUnits($value) : $value;
        }
        $payload['id'] = (string) ($payload['id'] ?? $this->getKey());

        return $payload;
    }

    public function publishToSync(): void
    {
        $publisher = app(BulkPublisher::class);
        foreach ($this->syncStoreIds() as $store) {
            $publisher->publish($store, $this->syncEntityType(), [$this->toSyncPayload()]);
        }
    }

    public function unpublishFromSync(): void
    {
        $publisher = app(BulkPublisher::class);
        foreach ($this->syncStoreIds() as $store) {
            $publisher->delete($store, $this->syncEntityType(), $this->syncEntityId());
        }
    }
}
