package org.sipher.core

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import java.nio.file.Path

/**
 * Two phones in one JVM call each other peer to peer over loopback with ZRTP: both see the same
 * SAS and "ZRTP - Not verified"; confirming the SAS on both sides makes it "ZRTP - Verified", and
 * that survives closing both phones and starting them again on the same data directories.
 */
class ZrtpCallTest {
    private lateinit var aliceDir: Path
    private lateinit var bobDir: Path

    @BeforeEach
    fun dirs() {
        aliceDir = tempDataDir("alice")
        bobDir = tempDataDir("bob")
    }

    @AfterEach
    fun cleanup() {
        aliceDir.deleteTree()
        bobDir.deleteTree()
    }

    /** One call from Alice to Bob; [during] runs once both sides are secure. */
    private class CallResult(val sasAlice: String, val sasBob: String, val alice: SecurityInfo, val bob: SecurityInfo)

    private fun secureCall(
        sas: SasRendering = SasRendering.B32,
        during: (alice: Phone, aliceCall: ULong, aliceRec: Recorder, bob: Phone, bobCall: ULong, bobRec: Recorder) -> Unit = { _, _, _, _, _, _ -> },
    ): CallResult {
        val alice = loopbackPhone(aliceDir, sas)
        val bob = loopbackPhone(bobDir, sas)
        val aliceRec = Recorder()
        val bobRec = Recorder()
        alice.observe(aliceRec).use { _ ->
            bob.observe(bobRec).use { _ ->
                // Bob answers whatever rings.
                val bobUri = bob.localUri() ?: error("bob has no local URI")
                val aliceCall = runBlocking { alice.call(bobUri) }
                val bobCall = bobRec.await("an incoming call at bob") {
                    (it as? PhoneEvent.Call)?.info?.takeIf { i -> i.incoming && i.state == CallState.INCOMING }?.id
                }
                bob.answer(bobCall)
                val secureAlice = aliceRec.await("ZRTP secure at alice") { ev ->
                    (ev as? PhoneEvent.Call)?.info?.takeIf { it.id == aliceCall }?.security?.takeIf { it.mode == SecurityMode.ZRTP }
                }
                val secureBob = bobRec.await("ZRTP secure at bob") { ev ->
                    (ev as? PhoneEvent.Call)?.info?.takeIf { it.id == bobCall }?.security?.takeIf { it.mode == SecurityMode.ZRTP }
                }
                assertTrue(aliceRec.callStates(aliceCall).contains(CallState.CONNECTED))
                during(alice, aliceCall, aliceRec, bob, bobCall, bobRec)
                alice.hangup(aliceCall)
                bobRec.await("the call ended at bob") { ev ->
                    (ev as? PhoneEvent.Call)?.info?.takeIf { it.id == bobCall && it.state == CallState.ENDED }
                }
                aliceRec.await("the call ended at alice") { ev ->
                    (ev as? PhoneEvent.Call)?.info?.takeIf { it.id == aliceCall && it.state == CallState.ENDED }
                }
                assertTrue(alice.calls().isEmpty(), "no call left at alice")
                val result = CallResult(secureAlice.sas!!, secureBob.sas!!, aliceRec.security(aliceCall)!!, bobRec.security(bobCall)!!)
                alice.stop()
                bob.stop()
                alice.close()
                bob.close()
                return result
            }
        }
    }

    @Test
    @Timeout(90)
    fun `phones that prefer PGP words show the same two words`() {
        val r = secureCall(sas = SasRendering.B256)
        assertTrue(Regex("^[A-Za-z]+:[A-Za-z]+$").matches(r.sasAlice), r.sasAlice)
        assertEquals(r.sasAlice, r.sasBob)
    }

    @Test
    @Timeout(90)
    fun `both phones show the same SAS, not verified on a first call`() {
        val r = secureCall()
        assertEquals(r.sasAlice, r.sasBob, "the SAS must be the same on both sides")
        assertEquals(4, r.sasAlice.length, "B32 SAS: 4 characters")
        assertEquals("ZRTP - Not verified", r.alice.status)
        assertEquals("ZRTP - Not verified", r.bob.status)
        assertEquals(false, r.alice.verified)
        assertEquals(ZrtpCache.NEW, r.alice.cache)
        assertEquals(r.alice.cipher, r.bob.cipher)
        assertEquals(r.alice.keyAgreement, r.bob.keyAgreement)
    }

    @Test
    @Timeout(120)
    fun `confirmed SAS is verified and stays verified after a restart`() {
        val first = secureCall { alice, aliceCall, aliceRec, bob, bobCall, bobRec ->
            alice.confirmSas(aliceCall)
            bob.confirmSas(bobCall)
            aliceRec.await("verified at alice") { ev ->
                (ev as? PhoneEvent.Call)?.info?.takeIf { it.id == aliceCall }?.security?.takeIf { it.verified }
            }
            bobRec.await("verified at bob") { ev ->
                (ev as? PhoneEvent.Call)?.info?.takeIf { it.id == bobCall }?.security?.takeIf { it.verified }
            }
            Unit
        }
        assertEquals("ZRTP - Verified", first.alice.status)
        assertEquals("ZRTP - Verified", first.bob.status)
        // Both phones were closed; the same data directories keep ZID, cache and verification.
        val second = secureCall()
        assertEquals(second.sasAlice, second.sasBob)
        assertEquals(ZrtpCache.MATCH, second.alice.cache, "the retained secret matched")
        assertEquals("ZRTP - Verified", second.alice.status)
        assertEquals("ZRTP - Verified", second.bob.status)
    }

    @Test
    @Timeout(120)
    fun `a revoked SAS is not verified any more`() {
        secureCall { alice, aliceCall, aliceRec, bob, bobCall, _ ->
            alice.confirmSas(aliceCall)
            bob.confirmSas(bobCall)
            aliceRec.await("verified at alice") { ev ->
                (ev as? PhoneEvent.Call)?.info?.takeIf { it.id == aliceCall }?.security?.takeIf { it.verified }
            }
            val mark = aliceRec.mark()
            alice.revokeSas(aliceCall)
            val revoked = aliceRec.await("revoked at alice", from = mark) { ev ->
                (ev as? PhoneEvent.Call)?.info?.takeIf { it.id == aliceCall }?.security?.takeIf { !it.verified }
            }
            assertEquals("ZRTP - Not verified", revoked.status)
            Unit
        }
    }
}
