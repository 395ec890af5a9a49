package org.sipher.core

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit
import java.util.concurrent.locks.ReentrantLock
import kotlin.concurrent.withLock

/** Records every event an observer gets and lets a test wait (bounded) for one. */
class Recorder : PhoneObserver {
    val events = CopyOnWriteArrayList<PhoneEvent>()
    private val lock = ReentrantLock()
    private val changed = lock.newCondition()

    override fun onEvent(event: PhoneEvent) {
        lock.withLock {
            events.add(event)
            changed.signalAll()
        }
    }

    /** How many events arrived so far: pass it as `from` to wait only for later ones. */
    fun mark(): Int = events.size

    /**
     * The first event (oldest first, from index [from] on) that [pick] maps to non-null,
     * waiting up to [seconds].
     */
    fun <T> await(what: String, seconds: Long = 20, from: Int = 0, pick: (PhoneEvent) -> T?): T {
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds)
        lock.withLock {
            while (true) {
                events.drop(from).firstNotNullOfOrNull(pick)?.let { return it }
                val left = deadline - System.nanoTime()
                if (left <= 0) {
                    throw AssertionError("timed out after ${seconds}s waiting for $what; saw:\n" +
                        events.joinToString("\n"))
                }
                changed.awaitNanos(left)
            }
        }
    }

    fun callStates(call: ULong): List<CallState> =
        events.mapNotNull { (it as? PhoneEvent.Call)?.info?.takeIf { i -> i.id == call }?.state }

    /** The latest security info seen on a call. */
    fun security(call: ULong): SecurityInfo? =
        events.mapNotNull { (it as? PhoneEvent.Call)?.info?.takeIf { i -> i.id == call }?.security }
            .lastOrNull()
}

fun tempDataDir(name: String): Path = Files.createTempDirectory("sipher-kt-$name-")

/** A peer-to-peer phone on loopback with ZRTP. */
@JvmOverloads
fun loopbackPhone(dataDir: Path, sas: SasRendering = SasRendering.B32): Phone {
    val settings = defaultPhoneSettings(dataDir.toString())
    settings.bindAddress = "127.0.0.1"
    settings.mediaEncryption = MediaEncryption.ZRTP
    settings.sasRendering = sas
    return Phone.start(settings)
}

fun Path.deleteTree() {
    toFile().deleteRecursively()
}

/** Names of this process's threads (native ones too), from /proc. */
fun threadNames(): List<String> =
    java.io.File("/proc/self/task").listFiles().orEmpty().mapNotNull {
        runCatching { java.io.File(it, "comm").readText().trim() }.getOrNull()
    }

/** Waits (bounded) until no thread of this process has a name starting with [prefix]. */
fun awaitNoThreads(prefix: String, seconds: Long = 10): List<String> {
    val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds)
    while (System.nanoTime() < deadline) {
        val left = threadNames().filter { it.startsWith(prefix) }
        if (left.isEmpty()) return left
        Thread.sleep(50)
    }
    return threadNames().filter { it.startsWith(prefix) }
}

/** Whether [condition] becomes true within [seconds] (polled). */
fun eventually(seconds: Long = 10, condition: () -> Boolean): Boolean {
    val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds)
    while (System.nanoTime() < deadline) {
        if (condition()) return true
        Thread.sleep(20)
    }
    return condition()
}
