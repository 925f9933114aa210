package trafficgen

import "time"

// Stats is a snapshot of a run, readable at any time with Generator.Stats.
// Frame counts come from the generator's own program (per-CPU counters),
// so they are exact while the run goes on; device counts come from the
// interface and, for veth, its peer.
type Stats struct {
	// Elapsed is the time since Start, or the run's length once it ended.
	Elapsed time.Duration
	// Active is the time since the first frame was sent, or from the
	// first frame to the end of the run once it ended: Elapsed without
	// the kernel's set-up of the live-frames run (tens of milliseconds).
	// Rates are frames over Active. It is 0 until a frame is sent.
	Active time.Duration
	// Frames is the number of frames the program gave its action: sent,
	// for TX and Redirect; injected, for Pass.
	Frames uint64
	// Bytes is their length in total (without the frame check sequence).
	Bytes uint64
	// Paced is the number of frames the pacer held back: their pages were
	// recycled, nothing was sent.
	Paced uint64
	// Workers holds each worker's share, in worker order.
	Workers []WorkerStats
	// Device holds what the interface counted since Start; nil when its
	// counters could not be read.
	Device *DeviceStats
	// Done reports whether the run has ended.
	Done bool
}

// WorkerStats is one worker's share of Stats.
type WorkerStats struct {
	// CPU is the CPU the worker is pinned to.
	CPU int
	// Frames, Bytes and Paced are as in Stats.
	Frames, Bytes, Paced uint64
}

// DeviceStats is what the interface, and for veth its peer, counted since
// the run started: what really left and arrived, as opposed to what the
// program handed to the kernel.
type DeviceStats struct {
	// TxPackets and TxBytes are the frames the interface transmitted.
	TxPackets, TxBytes uint64
	// TxDropped and TxErrors are the frames it dropped or failed to send.
	TxDropped, TxErrors uint64
	// Peer reports whether the interface is a veth whose peer's counters
	// were read; PeerRxPackets and PeerRxDropped are then the frames that
	// arrived at the peer and the frames it dropped.
	Peer                         bool
	PeerRxPackets, PeerRxDropped uint64
}

// Delivered returns the frames known to have arrived: at the veth peer
// when its counters are known, else the frames the interface transmitted.
func (d *DeviceStats) Delivered() uint64 {
	if d.Peer {
		return d.PeerRxPackets
	}
	return d.TxPackets
}

// Rate returns frames per second over elapsed; 0 when elapsed is 0.
func Rate(frames uint64, elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	return float64(frames) / elapsed.Seconds()
}
