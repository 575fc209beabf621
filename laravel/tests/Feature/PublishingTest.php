<?php

namespace PosSync\Laravel\Tests\Feature;

use Illuminate\Database\Eloquent\Model;
use Illuminate\Database\Schema\Blueprint;
use Illuminate\Foundation\Testing\RefreshDatabase;
use Illuminate\Support\Facades\DB;
use Illuminate\Support\Facades\Schema;
use PosSync\Laravel\Publishing\BulkPublisher;
use PosSync\Laravel\Publishing\PublishesToSync;
use PosSync\Laravel\Tests\TestCase;

/** A back-office model of the app, published to the tills by the trait. */
final class ShopProduct extends Model
{
    use PublishesToSync;

    protected $table = 'shop_products';
    protected $guarded = [];
    protected $casts = ['price' => 'decimal:2'];
    protected string $syncEntityType = 'product';
    protected array $syncFields = ['id' => 'sku', 'name', 'price'];
    protected array $syncMoney = ['price'];

    public function syncStoreIds(): array
    {
        return ['store-a', 'store-b'];
    }
}

final class ShopCustomer extends Model
{
    use PublishesToSync;

    protected $table = 'shop_customers';
    protected $guarded = [];
    protected string $syncEntityType = 'customer';
    protected array $syncFields = ['id' => 'code', 'name'];

    public function syncStoreIds(): array
    {
        return ['store-a'];
    }
}

final class PublishingTest extends TestCase
{
    use RefreshDatabase;

    protected function setUp(): void
    {
        parent::setUp();
        Schema::create('shop_products', function (Blueprint $t) {
            $t->id();
            $t->string('sku')->unique();
            $t->string('name');
            $t->decimal('price', 10, 2);
            $t->timestamps();
        });
        Schema::create('shop_customers', function (Blueprint $t) {
            $t->id();
            $t->string('code')->unique();
            $t->string('name');
            $t->timestamps();
        });
    }

    private function products(string $token): array
    {
        return collect($this->getJson('/api/sync/download?entity_type=product', $this->bearer($token))->assertOk()->json('records'))
            ->keyBy('entity_id')->all();
    }

    public function testModelWritesReachTheTillsWithMoneyAsIntegers(): void
    {
        $a = $this->device('store-a');
        $b = $this->device('store-b');
        $cola = ShopProduct::create(['sku' => 'p-cola', 'name' => 'Cola', 'price' => '1.50']);
        $record = $this->products($a)['p-cola'];
        $this->assertSame(['id' => 'p-cola', 'name' => 'Cola', 'price' => 150], $record['payload']);
        $this->assertSame(1, $record['version']);
        $this->assertSame(150, $this->products($b)['p-cola']['payload']['price'], 'published to every store of the model');

        $cola->update(['price' => '1.65']);
        $cola->update(['price' => '1.65']);      // no change: no new version
        $this->assertSame([2, 165], [$this->products($a)['p-cola']['version'], $this->products($a)['p-cola']['payload']['price']]);
        $cola->delete();
        $tomb = $this->products($a)['p-cola'];
        $this->assertSame([3, true, null], [$tomb['version'], $tomb['deleted'], $tomb['payload']]);
        $status = collect($this->getJson('/api/sync/status', $this->bearer($a))->json('entities'))->firstWhere('entity_type', 'product');
        $this->assertSame(0, $status['count']);
    }

    public function testAModelWriteAndItsSyncRecordCommitOrRollBackTogether(): void
    {
        $a = $this->device('store-a');
        try {
            DB::transaction(function () {
                ShopProduct::create(['sku' => 'p-tea', 'name' => 'Tea', 'price' => '2.00']);
                throw new \RuntimeException('the back office failed after saving');
            });
        } catch (\RuntimeException) {
        }
        $this->assertSame(0, ShopProduct::count());
        $this->assertArrayNotHasKey('p-tea', $this->products($a));
    }

    public function testTheBulkPublisherWritesManyRecordsWithoutModelEvents(): void
    {
        $a = $this->device('store-a');
        $items = array_map(fn ($i) => ['id' => "p{$i}", 'price' => $i], range(1, 1200));
        $records = app(BulkPublisher::class)->publish('store-a', 'product', $items);
        $this->assertCount(1200, $records);
        $again = app(BulkPublisher::class)->publish('store-a', 'product', $items);
        $this->assertSame(array_map(fn ($r) => $r->seq, $records), array_map(fn ($r) => $r->seq, $again), 'identical payloads write nothing');
        $status = collect($this->getJson('/api/sync/status', $this->bearer($a))->json('entities'))->firstWhere('entity_type', 'product');
        $this->assertSame(1200, $status['count']);
        $this->assertSame(1200, max(array_map(fn ($r) => $r->seq, $records)), 'one sequence number per write, in order');
    }

    public function testABackOfficeEditOfACustomerMakesTheTillsStaleEditAConflict(): void
    {
        $a = $this->device('store-a');
        $this->upload($a, [self::change('customer', 'c-7', 'create', ['id' => 'c-7', 'name' => 'Ann'])]);
        $customer = ShopCustomer::create(['code' => 'c-7', 'name' => 'Ann Smith']);
        $result = $this->upload($a, [self::change('customer', 'c-7', 'update', ['id' => 'c-7', 'name' => 'Ann S.'], 1)])[0];
        $this->assertSame('conflict', $result['status']);
        $this->assertSame([2, 'Ann Smith'], [$result['server_record']['version'], $result['server_record']['payload']['name']]);
        $this->assertGreaterThan(0, $customer->id);
    }
}
