package org.sipher.core

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout

/** Hold/resume, mute, DTMF and reject through the Kotlin API, between two loopback phones. */
class CallControlTest {
    private fun twoPhones(body: (alice: Phone, aliceRec: Recorder, bob: Phone, bobRec: Recorder) -> Unit) {
        val aliceDir = tempDataDir("alice")
        val bobDir = tempDataDir("bob")
        val alice = loopbackPhone(aliceDir)
        val bob = loopbackPhone(bobDir)
        val aliceRec = Recorder()
        val bobRec = Recorder()
        try {
            alice.observe(aliceRec).use { bob.observe(bobRec).use { body(alice, aliceRec, bob, bobRec) } }
        } finally {
            alice.stop(); bob.stop(); alice.close(); bob.close()
            aliceDir.deleteTree(); bobDir.deleteTree()
        }
    }

    private fun Recorder.awaitCall(what: String, call: ULong, from: Int = 0, pick: (CallInfo) -> Boolean): CallInfo =
        await(what, from = from) { ev -> (ev as? PhoneEvent.Call)?.info?.takeIf { it.id == call && pick(it) } }

    @Test
    @Timeout(60)
    fun `hold, resume, mute and DTMF reach the other side`() = twoPhones { alice, aliceRec, bob, bobRec ->
        run {
        val aliceCall = runBlocking { alice.call(bob.localUri()!!) }
        val bobCall = bobRec.await("incoming at bob") {
            (it as? PhoneEvent.Call)?.info?.takeIf { i -> i.state == CallState.INCOMING }?.id
        }
        bob.answer(bobCall)
        aliceRec.awaitCall("secure at alice", aliceCall) { it.security?.mode == SecurityMode.ZRTP }
        bobRec.awaitCall("secure at bob", bobCall) { it.security?.mode == SecurityMode.ZRTP }

        alice.sendDtmf(aliceCall, "1#")
        val digits = listOf("1", "#").map { d ->
            bobRec.await("DTMF $d at bob") { (it as? PhoneEvent.Dtmf)?.takeIf { e -> e.call == bobCall && e.digit == d } }
        }
        assertEquals(listOf("1", "#"), digits.map { it.digit })
        assertThrows(PhoneException.InvalidArgument::class.java) { alice.sendDtmf(aliceCall, "1x") }

        alice.setMuted(aliceCall, true)
        assertTrue(alice.calls().single().muted, "the call shows muted")

        var mark = bobRec.mark()
        alice.hold(aliceCall)
        aliceRec.awaitCall("held at alice", aliceCall) { it.state == CallState.HELD }
        bobRec.awaitCall("remote hold at bob", bobCall, mark) { it.state == CallState.REMOTE_HOLD }
        mark = bobRec.mark()
        alice.resume(aliceCall)
        bobRec.awaitCall("resumed at bob", bobCall, mark) { it.state == CallState.CONNECTED }

        bob.hangup(bobCall)
        val ended = aliceRec.awaitCall("ended at alice", aliceCall) { it.state == CallState.ENDED }
        assertEquals(CallParty.REMOTE, ended.endedBy)
        assertThrows(PhoneException.NoSuchCall::class.java) { alice.hold(aliceCall) }
        }
    }

    @Test
    @Timeout(60)
    fun `a rejected call fails with 603 at the caller`() = twoPhones { alice, aliceRec, bob, bobRec ->
        val aliceCall = runBlocking { alice.call(bob.localUri()!!) }
        val bobCall = bobRec.await("incoming at bob") {
            (it as? PhoneEvent.Call)?.info?.takeIf { i -> i.state == CallState.INCOMING }?.id
        }
        bob.reject(bobCall)
        val failed = aliceRec.awaitCall("failed at alice", aliceCall) { it.state == CallState.FAILED }
        assertEquals(603.toUShort(), failed.status)
        assertTrue(alice.calls().isEmpty() && bob.calls().isEmpty(), "no call left")
    }
}
