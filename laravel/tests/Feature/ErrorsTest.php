<?php

namespace PosSync\Laravel\Tests\Feature;

use Illuminate\Foundation\Testing\RefreshDatabase;
use Illuminate\Support\Facades\DB;
use PosSync\Laravel\Protocol\Limits;
use PosSync\Laravel\Tests\TestCase;

/** Every failure is a JSON error body with the protocol's code, and changes nothing. */
final class ErrorsTest extends TestCase
{
    use RefreshDatabase;

    private function raw(string $token, string $body, array $headers = []): \Illuminate\Testing\TestResponse
    {
        $server = ['HTTP_AUTHORIZATION' => "Bearer {$token}", 'CONTENT_TYPE' => 'application/json'];
        foreach ($headers as $name => $value) {
            $server[$name === 'Content-Type' ? 'CONTENT_TYPE' : 'HTTP_' . strtoupper(str_replace('-', '_', $name))] = $value;
        }

        return $this->call('POST', '/api/sync/upload', [], [], [], $server, $body);
    }

    public function testMalformedUploadsAreRefusedWhole(): void
    {
        $t = $this->device();
        $good = self::batch([self::sale('s-1', [['p', 1]])]);
        $with = function (callable $edit) use ($good) {
            $copy = $good;
            $edit($copy);

            return json_encode($copy);
        };
        $cases = [
            ['{"batch_id":', [], 400, 'invalid_request'],
            ['[1,2]', [], 400, 'invalid_request'],
            ['', [], 400, 'invalid_request'],
            [$with(function (&$b) { $b['changes'][0]['hlc'] = 'yesterday'; }), [], 400, 'invalid_request'],
            [$with(function (&$b) { $b['changes'][0]['action'] = 'upsert'; }), [], 400, 'invalid_request'],
            [$with(function (&$b) { $b['changes'][0]['entity_type'] = 'invoice'; }), [], 400, 'unknown_entity_type'],
            [$with(function (&$b) { unset($b['changes'][0]['payload']); }), [], 400, 'invalid_request'],
            [$with(function (&$b) { $b['changes'][0]['change_id'] = str_repeat('c', 129); }), [], 400, 'invalid_request'],
            [$with(function (&$b) { $b['checksum'] = str_repeat('0', 64); }), [], 400, 'checksum_mismatch'],
            [json_encode($good), ['X-Pos-Sync-Protocol' => '2'], 400, 'unsupported_protocol_version'],
            [json_encode($good), ['Content-Type' => 'text/plain'], 415, 'invalid_request'],
            [json_encode($good), ['Content-Encoding' => 'br'], 415, 'invalid_request'],
            [json_encode($good), ['Content-Encoding' => 'gzip'], 400, 'invalid_request'],
            [gzencode(str_repeat(' ', Limits::MAX_BODY_BYTES + 1)), ['Content-Encoding' => 'gzip'], 413, 'payload_too_large'],
            [json_encode(self::batch(array_map(fn ($i) => self::sale("s{$i}", [['p', 1]]), range(0, Limits::MAX_BATCH_CHANGES)))), [], 413, 'payload_too_large'],
        ];
        foreach ($cases as $i => [$body, $headers, $status, $code]) {
            $response = $this->raw($t, $body, $headers);
            $this->assertSame([$status, $code], [$response->status(), $response->json('error.code')], "case {$i}: " . $response->getContent());
            $this->assertStringStartsWith('application/json', $response->headers->get('Content-Type'));
            $this->assertSame(hash('sha256', $response->getContent()), $response->headers->get('X-Pos-Sync-Body-Sha256'));
        }
        $this->assertSame(0, DB::table('pos_sync_records')->count(), 'nothing was applied');
        // A gzip body is decoded.
        $this->raw($t, gzencode(json_encode($good)), ['Content-Encoding' => 'gzip'])->assertOk()->assertJsonPath('results.0.status', 'applied');
    }

    public function testAuthPathsAndMethodsAnswerJson(): void
    {
        $this->getJson('/api/sync/status')->assertStatus(401)->assertJsonPath('error.code', 'unauthorized')->assertHeader('WWW-Authenticate');
        $this->getJson('/api/sync/status', ['Authorization' => 'Bearer nope'])->assertStatus(401);
        $t = $this->device();
        $this->get('/api/sync/nothing', $this->bearer($t))->assertStatus(404)->assertJsonPath('error.code', 'not_found');
        $this->get('/')->assertStatus(404)->assertJsonPath('error.code', 'not_found');
        $this->get('/api/sync/upload', $this->bearer($t))->assertStatus(405)->assertJsonPath('error.code', 'invalid_request');
        // Admin routes: 401 with a device token, 404 while no admin token is configured.
        $this->getJson('/admin/stores/store-a/stock', $this->bearer($t))->assertStatus(401);
        config(['pos-sync.admin.token' => null]);
        $this->getJson('/admin/stores/store-a/stock', ['Authorization' => 'Bearer admin-secret'])->assertStatus(404)->assertJsonPath('error.code', 'not_found');
    }

    public function testTheRateLimitIsPerDeviceWithRetryAfter(): void
    {
        config(['pos-sync.rate_limit.limit' => 3, 'pos-sync.rate_limit.window_seconds' => 30]);
        $t1 = $this->device();
        $t2 = $this->device();
        $remaining = [];
        for ($i = 0; $i < 3; $i++) {
            $remaining[] = $this->getJson('/api/sync/status', $this->bearer($t1))->json('rate_limit.remaining');
        }
        $this->assertSame([2, 1, 0], $remaining);
        $limited = $this->getJson('/api/sync/download?entity_type=product', $this->bearer($t1));
        $limited->assertStatus(429)->assertJsonPath('error.code', 'rate_limited');
        $this->assertGreaterThanOrEqual(1, (int) $limited->headers->get('Retry-After'));
        $this->assertLessThanOrEqual(30, (int) $limited->headers->get('Retry-After'));
        $this->assertSame(2, $this->getJson('/api/sync/status', $this->bearer($t2))->json('rate_limit.remaining'));
    }

    public function testAnswersAreGzippedForClientsThatAskOnly(): void
    {
        $t = $this->device();
        $this->upload($t, array_map(fn ($i) => self::change('customer', "c{$i}", 'create', ['id' => "c{$i}", 'name' => str_repeat('n', 50)]), range(1, 40)));
        $zipped = $this->get('/api/sync/download?entity_type=customer', $this->bearer($t) + ['Accept-Encoding' => 'gzip']);
        $zipped->assertHeader('Content-Encoding', 'gzip');
        $plain = gzdecode($zipped->getContent());
        $this->assertSame(hash('sha256', $plain), $zipped->headers->get('X-Pos-Sync-Body-Sha256'), 'the checksum is over the body before gzip');
        $this->assertCount(40, json_decode($plain, true)['records']);
        $this->assertFalse($this->get('/api/sync/download?entity_type=customer', $this->bearer($t))->headers->has('Content-Encoding'));
    }
}
