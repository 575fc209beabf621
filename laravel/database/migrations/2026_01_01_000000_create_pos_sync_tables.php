<?php

use Illuminate\Database\Migrations\Migration;
use Illuminate\Database\Schema\Blueprint;
use Illuminate\Support\Facades\Schema;

/**
 * The sync tables of docs/protocol.md §19, `store_id` first in every key. Payloads are TEXT
 * holding canonical JSON exactly as the checksum was computed over it (a JSON column type
 * would re-format it, and a PHP array cast would turn `{}` into `[]`).
 */
return new class () extends Migration {
    public function getConnection()
    {
        return config('pos-sync.connection');
    }

    public function up(): void
    {
        Schema::create('pos_sync_devices', function (Blueprint $table) {
            $table->char('token_hash', 64)->primary();   // SHA-256 of the token, never the token
            $table->string('device_id', 128);
            $table->string('store_id', 128);
            $table->bigInteger('created_at');
            $table->index(['store_id', 'device_id']);
        });
        Schema::create('pos_sync_store_sequences', function (Blueprint $table) {
            $table->string('store_id', 128)->primary();
            $table->bigInteger('last_seq');
            $table->bigInteger('last_hlc');               // the store's server clock (§12)
        });
        Schema::create('pos_sync_records', function (Blueprint $table) {
            $table->string('store_id', 128);
            $table->string('entity_type', 32);
            $table->string('entity_id', 128);
            $table->bigInteger('version');
            $table->boolean('deleted');
            $table->bigInteger('updated_hlc');
            $table->text('payload')->nullable();
            $table->char('checksum', 64);
            $table->bigInteger('seq');
            $table->primary(['store_id', 'entity_type', 'entity_id']);
            $table->index(['store_id', 'entity_type', 'seq'], 'pos_sync_records_seq');
        });
        Schema::create('pos_sync_type_stats', function (Blueprint $table) {
            $table->string('store_id', 128);
            $table->string('entity_type', 32);
            $table->bigInteger('live_count');
            $table->bigInteger('checksum_sum');
            $table->primary(['store_id', 'entity_type']);
        });
        Schema::create('pos_sync_applied_changes', function (Blueprint $table) {
            $table->string('change_id', 128)->primary();
            $table->string('store_id', 128);
            $table->string('device_id', 128);
            $table->text('result_json');
            $table->bigInteger('applied_at');
        });
        Schema::create('pos_sync_stock', function (Blueprint $table) {
            $table->string('store_id', 128);
            $table->string('product_id', 128);
            $table->decimal('quantity', 18, 3);
            $table->primary(['store_id', 'product_id']);
        });
        Schema::create('pos_sync_conflicts', function (Blueprint $table) {
            $table->string('conflict_id', 36)->primary();
            $table->string('store_id', 128);
            $table->string('entity_type', 32);
            $table->string('entity_id', 128);
            $table->string('change_id', 128);
            $table->text('local_payload')->nullable();
            $table->bigInteger('local_hlc');
            $table->bigInteger('server_version');
            $table->string('status', 8);
            $table->string('resolution', 16)->nullable();
            $table->bigInteger('created_at');
            $table->bigInteger('resolved_at')->nullable();
            $table->index(['store_id', 'change_id']);
            $table->index(['store_id', 'status']);
        });
    }

    public function down(): void
    {
        foreach (['conflicts', 'stock', 'applied_changes', 'type_stats', 'records', 'store_sequences', 'devices'] as $table) {
            Schema::dropIfExists('pos_sync_' . $table);
        }
    }
};
