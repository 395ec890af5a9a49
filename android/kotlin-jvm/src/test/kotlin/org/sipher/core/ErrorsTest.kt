package org.sipher.core

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.Timeout

/** The typed errors the UI acts on, and accounts against Kamailio on 127.0.0.1:5060. */
class ErrorsTest {
    /** scripts/kotlin-jvm.sh starts Kamailio (users 1000..1003, password pw<user>) and sets it. */
    private val kamailio = System.getenv("SIPHER_KAMAILIO") == "1"

    @Test
    @Timeout(60)
    fun `a wrong password at Kamailio is a WrongCredentials error`() {
        assumeTrue(kamailio, "needs Kamailio: run scripts/kotlin-jvm.sh")
        val dir = tempDataDir("badpw")
        val phone = loopbackPhone(dir)
        try {
            val rec = Recorder()
            phone.observe(rec).use {
                val id = phone.addAccount(defaultAccount("1000", "not-the-password", "127.0.0.1"))
                val e = assertThrows(PhoneException.WrongCredentials::class.java) {
                    runBlocking { phone.register() }
                }
                assertEquals(403.toUShort(), e.status)
                val failed = rec.await("the failed registration") {
                    (it as? PhoneEvent.Registration)?.info?.takeIf { i -> i.state == RegistrationState.FAILED }
                }
                assertEquals(id, failed.accountId)
                assertEquals(RegistrationFailure.WRONG_CREDENTIALS, failed.failure)
                assertEquals(RegistrationState.FAILED, phone.registration().state)
            }
        } finally {
            phone.stop(); phone.close(); dir.deleteTree()
        }
    }

    @Test
    @Timeout(60)
    fun `the right password registers and accounts persist`() {
        assumeTrue(kamailio, "needs Kamailio: run scripts/kotlin-jvm.sh")
        val dir = tempDataDir("goodpw")
        var phone = loopbackPhone(dir)
        try {
            val id = phone.addAccount(defaultAccount("1001", "pw1001", "127.0.0.1"))
            val info = runBlocking { phone.register() }
            assertEquals(RegistrationState.REGISTERED, info.state)
            assertEquals(id, info.accountId)
            assertTrue(phone.accounts().single().active)
            phone.stop(); phone.close()
            phone = loopbackPhone(dir)
            assertEquals(listOf(id), phone.accounts().map { it.id }, "the account is stored")
            val cfg = phone.accounts().single().config
            cfg.enabled = false
            phone.updateAccount(id, cfg)
            assertEquals(RegistrationState.NO_ACCOUNT, phone.registration().state)
            phone.removeAccount(id)
            assertTrue(phone.accounts().isEmpty())
        } finally {
            phone.stop(); phone.close(); dir.deleteTree()
        }
    }

    @Test
    @Timeout(30)
    fun `bad input and stale ids are typed errors`() {
        val dir = tempDataDir("errors")
        val phone = loopbackPhone(dir)
        try {
            assertThrows(PhoneException.InvalidArgument::class.java) { runBlocking { phone.call("not a uri") } }
            assertThrows(PhoneException.NoSuchCall::class.java) { phone.answer(42u) }
            assertThrows(PhoneException.InvalidArgument::class.java) {
                phone.addAccount(defaultAccount("10@00", "pw", "127.0.0.1"))
            }
            val badCodec = defaultAccount("1000", "pw", "127.0.0.1").also { it.codecs.wifi = listOf("g729") }
            assertThrows(PhoneException.InvalidArgument::class.java) { phone.addAccount(badCodec) }
            assertThrows(PhoneException.AccountNotFound::class.java) { phone.removeAccount("acc-none") }
            assertTrue(phone.accounts().isEmpty(), "refused accounts are not stored")
            phone.stop()
            assertThrows(PhoneException.NotRunning::class.java) { runBlocking { phone.call("sip:a@127.0.0.1") } }
        } finally {
            phone.close(); dir.deleteTree()
        }
    }
}
