<?php

namespace PosSync\Laravel\Tests\Unit;

use PHPUnit\Framework\TestCase;
use PosSync\Laravel\Protocol\Canonical;
use PosSync\Laravel\Protocol\Limits;
use PosSync\Laravel\Protocol\SyncToken;
use PosSync\Laravel\Publishing\Money;
use PosSync\Laravel\Webhooks\DeliverWebhook;

/** Canonical JSON, checksums and signatures against the test vectors of docs/protocol.md. */
final class ProtocolTest extends TestCase
{
    /** @return array<string, array{0: string, 1: string, 2: string, 3: int}> */
    public static function vectors(): array
    {
        return [
            'product' => ['{"id":"p1","name":"Cola","price":150}', '{"id":"p1","name":"Cola","price":150}', '588d4cd0c6827bb4a57debbe53892ecaa333bc74052c42197c0108678751ad77', 1485655248],
            'null' => ['null', 'null', '74234e98afe7498fb5daf1f36ac2d78acc339464f950703b8c019892f982b90b', 1948470936],
            'escapes and nesting' => ['{ "b": [1, {"d": true, "c": null}], "a": "Grüße / \"q\"" }', '{"a":"Grüße / \"q\"","b":[1,{"c":null,"d":true}]}', 'c012537a382dcc064aeb11ce62556516ac94eb3944aa7628d801f5b51a7446fa', 3222426490],
            'empty array' => ['[]', '[]', '4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945', 1330892193],
        ];
    }

    /** @dataProvider vectors */
    public function testTheProtocolsTestVectors(string $input, string $canonical, string $sha256, int $drift): void
    {
        $value = json_decode($input, false, 512, JSON_THROW_ON_ERROR);
        $this->assertSame($canonical, Canonical::json($value));
        $this->assertSame($sha256, Canonical::checksum($value));
        $this->assertSame($drift, Canonical::drift($sha256));
    }

    public function testObjectsStayObjectsAndStringsAreEscapedMinimally(): void
    {
        $this->assertSame('{"a":{},"b":[]}', Canonical::json(json_decode('{"b":[],"a":{}}')));
        $this->assertSame("\"\\u0001\\n\\t\\u001f/é\u{2028}\"", Canonical::json("\u{1}\n\t\u{1f}/é\u{2028}"));
        $this->assertSame('[1.5,0.1,3.0,-3]', Canonical::json(json_decode('[1.5,0.1,3.0,-3]')));
        // Keys sort by bytes, as strcmp does.
        $this->assertSame('{"B":1,"a":2,"é":3}', Canonical::json(json_decode('{"é":3,"a":2,"B":1}')));
        // An associative array (a mapped model) is an object.
        $this->assertSame('{"id":"x","n":1}', Canonical::json(['n' => 1, 'id' => 'x']));
        $this->assertSame(Canonical::NULL_CHECKSUM, Canonical::checksum(null));
    }

    public function testTheWebhookSignatureVector(): void
    {
        $this->assertSame(
            'sha256=19ebd479cdb7d135cfca71e466f70960687af82ad6ecee5194bda3290b94a9d9',
            DeliverWebhook::signature('whsec_test', '{"event":"changes.applied"}')
        );
    }

    public function testChecksumsCompareCaseInsensitively(): void
    {
        $sum = Canonical::checksum(null);
        $this->assertTrue(Canonical::matches($sum, strtoupper($sum)));
        $this->assertFalse(Canonical::matches($sum, 42));
        $this->assertFalse(Canonical::matches($sum, substr($sum, 1)));
    }

    public function testSyncTokens(): void
    {
        $this->assertSame('v1.42', SyncToken::encode(42));
        $this->assertSame(42, SyncToken::decode('v1.42'));
        foreach (['v2.1', 'abc', 'v1.-1', 'v1.', 'v1.1.2', 'v1.+3'] as $bad) {
            $this->assertNull(SyncToken::decode($bad), $bad);
        }
    }

    public function testIds(): void
    {
        $this->assertNull(Limits::idProblem('till-1'));
        $this->assertNull(Limits::idProblem(str_repeat('é', 128)));
        $this->assertNotNull(Limits::idProblem(''));
        $this->assertNotNull(Limits::idProblem(str_repeat('a', 129)));
        $this->assertNotNull(Limits::idProblem("a\u{7}b"));
        $this->assertNotNull(Limits::idProblem(5));
    }

    public function testMoneyLeavesAsIntegerMinorUnits(): void
    {
        $this->assertSame(150, Money::toMinorUnits('1.50'));
        $this->assertSame(150, Money::toMinorUnits('1.5'));
        $this->assertSame(-5, Money::toMinorUnits('-0.05'));
        $this->assertSame(101, Money::toMinorUnits('1.005'));
        $this->assertSame(200, Money::toMinorUnits(2));
        $this->assertSame(1999, Money::toMinorUnits(19.99));
        $this->assertSame(1234, Money::toMinorUnits('1.234', 3));
        $this->assertNull(Money::toMinorUnits(null));
        $this->expectException(\InvalidArgumentException::class);
        Money::toMinorUnits('1,50');
    }
}
