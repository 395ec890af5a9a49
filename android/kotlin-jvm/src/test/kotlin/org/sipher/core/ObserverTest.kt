package org.sipher.core

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout
import java.util.concurrent.atomic.AtomicInteger

/** Observers get the state at once, cannot break the engine by throwing, and stop on close. */
class ObserverTest {
    @Test
    @Timeout(30)
    fun `a new observer gets the current state at once`() {
        val dir = tempDataDir("state")
        val phone = loopbackPhone(dir)
        try {
            val rec = Recorder()
            phone.observe(rec).use {
                val reg = rec.await("the current registration") { (it as? PhoneEvent.Registration)?.info }
                assertEquals(RegistrationState.NO_ACCOUNT, reg.state)
                assertEquals(null, reg.accountId)
            }
        } finally {
            phone.stop(); phone.close(); dir.deleteTree()
        }
    }

    @Test
    @Timeout(60)
    fun `an observer that throws does not break the engine or other observers`() {
        val aliceDir = tempDataDir("alice")
        val bobDir = tempDataDir("bob")
        val alice = loopbackPhone(aliceDir)
        val bob = loopbackPhone(bobDir)
        val thrown = AtomicInteger()
        val thrower = object : PhoneObserver {
            override fun onEvent(event: PhoneEvent) {
                thrown.incrementAndGet()
                throw IllegalStateException("observer bug")
            }
        }
        val slow = object : PhoneObserver {
            override fun onEvent(event: PhoneEvent) = Thread.sleep(2_000)
        }
        try {
            val bad = alice.observe(thrower)
            val sleepy = bob.observe(slow)
            val aliceRec = Recorder()
            val bobRec = Recorder()
            alice.observe(aliceRec).use { bob.observe(bobRec).use {
                val aliceCall = runBlocking { alice.call(bob.localUri()!!) }
                val bobCall = bobRec.await("incoming at bob") {
                    (it as? PhoneEvent.Call)?.info?.takeIf { i -> i.state == CallState.INCOMING }?.id
                }
                bob.answer(bobCall)
                aliceRec.await("connected at alice") {
                    (it as? PhoneEvent.Call)?.info?.takeIf { i -> i.id == aliceCall && i.state == CallState.CONNECTED }
                }
                // It runs on its own thread, maybe behind: wait (bounded) until it had several.
                assertTrue(eventually { thrown.get() >= 3 }, "the throwing observer was called (${thrown.get()} times)")
                // The engine still takes commands after the observer threw on every event.
                alice.hangup(aliceCall)
                bobRec.await("ended at bob") {
                    (it as? PhoneEvent.Call)?.info?.takeIf { i -> i.id == bobCall && i.state == CallState.ENDED }
                }
                val calls = thrown.get()
                bad.close()
                runBlocking { alice.call(bob.localUri()!!) }
                bobRec.await("second call at bob", from = 0) {
                    (it as? PhoneEvent.Call)?.info?.takeIf { i -> i.id != bobCall && i.state == CallState.INCOMING }
                }
                assertEquals(calls, thrown.get(), "a closed observer gets nothing more")
                sleepy.close()
            } }
        } finally {
            alice.stop(); bob.stop(); alice.close(); bob.close()
            aliceDir.deleteTree(); bobDir.deleteTree()
        }
    }

    @Test
    @Timeout(60)
    fun `closed phones free their threads and refuse further use`() {
        val dirs = (1..3).map { tempDataDir("free$it") }
        val phones = dirs.map { loopbackPhone(it) }
        val handles = phones.map { it.observe(Recorder()) }
        assertTrue(threadNames().any { it.startsWith("sipher-core") }, "runtime threads are running")
        assertTrue(threadNames().any { it.startsWith("sipher-observer") }, "observer threads are running")
        handles.forEach { it.close() }
        phones.forEach { it.close() } // no stop(): close alone must free everything
        assertEquals(emptyList<String>(), awaitNoThreads("sipher-core"), "runtime threads left")
        assertEquals(emptyList<String>(), awaitNoThreads("sipher-observer"), "observer threads left")
        assertThrows(IllegalStateException::class.java) { phones[0].calls() }
        dirs.forEach { it.deleteTree() }
    }
}
