package xsk

import (
	"golang.org/x/sys/unix"

	"github.com/xdpkit/xdpkit/internal/sys"
)

// Statistics are the socket's drop counters (struct xdp_statistics).
type Statistics struct {
	// RxDropped: frames dropped for other reasons than a full ring
	// (e.g. too large for the frame).
	RxDropped uint64 `json:"rx_dropped"`
	// RxInvalidDescs and TxInvalidDescs: descriptors the kernel refused.
	RxInvalidDescs uint64 `json:"rx_invalid_descs"`
	TxInvalidDescs uint64 `json:"tx_invalid_descs"`
	// RxRingFull: frames dropped because the RX ring was full.
	RxRingFull uint64 `json:"rx_ring_full"`
	// RxFillRingEmpty: times a frame found no buffer on the FILL ring.
	RxFillRingEmpty uint64 `json:"rx_fill_ring_empty_descs"`
	// TxRingEmpty: times the kernel found the TX ring empty when woken.
	TxRingEmpty uint64 `json:"tx_ring_empty_descs"`
}

// Stats returns the socket's drop counters (XDP_STATISTICS).
func (s *Socket) Stats() (Statistics, error) {
	st, err := sys.XSKStatistics(s.fd)
	if err != nil {
		return Statistics{}, err
	}
	return Statistics{
		RxDropped:       st.Rx_dropped,
		RxInvalidDescs:  st.Rx_invalid_descs,
		TxInvalidDescs:  st.Tx_invalid_descs,
		RxRingFull:      st.Rx_ring_full,
		RxFillRingEmpty: st.Rx_fill_ring_empty_descs,
		TxRingEmpty:     st.Tx_ring_empty_descs,
	}, nil
}

// ZeroCopy reports whether the socket is bound in zero-copy mode
// (XDP_OPTIONS), which ModeAuto chooses where the driver can.
func (s *Socket) ZeroCopy() (bool, error) {
	flags, err := sys.XSKOptions(s.fd)
	if err != nil {
		return false, err
	}
	return flags&unix.XDP_OPTIONS_ZEROCOPY != 0, nil
}
