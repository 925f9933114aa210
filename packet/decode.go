package packet

import (
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// decoded is a frame split into the layers Describe and Diff look at and
// the bytes after them.
type decoded struct {
	layers []gopacket.Layer
	// tail is the innermost payload: what follows UDP, TCP or the last
	// decoded layer, or the bytes gopacket could not decode.
	tail []byte
	// undecodable is set when tail holds bytes gopacket failed on.
	undecodable bool
	// failed is the type of the layer that failed to decode from tail,
	// when gopacket knows it; 0 when it has no decoder for the bytes.
	failed gopacket.LayerType
	// truncated is set when a header says there are more bytes than the
	// frame has.
	truncated bool
}

// decodeFrame decodes frame as Ethernet with gopacket. Decoding stops after
// a transport layer (UDP, TCP, SCTP, UDP-Lite): what follows is payload,
// whatever port numbers say. gopacket recovers from decoder panics itself.
func decodeFrame(frame []byte) decoded {
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.DecodeOptions{NoCopy: true})
	d := decodeLayers(p, frame)
	d.truncated = d.truncated || (d.undecodable && p.Metadata().Truncated)
	return d
}

func decodeLayers(p gopacket.Packet, frame []byte) decoded {
	// gopacket's Truncated flag also covers the application layers it
	// decodes by port (DNS on 53, ...), which xdpkit treats as payload;
	// truncation is judged from the lengths of the layers kept instead.
	d := decoded{}
	all := p.Layers()
	// gopacket adds some layers before decoding them; a layer without
	// contents just before a DecodeFailure is one that failed, on the bytes
	// the layer before it carried.
	for i := 1; i < len(all); i++ {
		if all[i].LayerType() == gopacket.LayerTypeDecodeFailure && len(all[i-1].LayerContents()) == 0 {
			d.failed = all[i-1].LayerType()
			d.undecodable = true
			d.tail = frame
			if i > 1 {
				d.tail = all[i-2].LayerPayload()
			}
			all = all[:i-1]
			break
		}
	}
	for _, l := range all {
		switch l.LayerType() {
		case gopacket.LayerTypePayload, gopacket.LayerTypeFragment:
			d.tail = l.LayerContents()
			return d
		case gopacket.LayerTypeDecodeFailure:
			d.undecodable = true
			d.tail = l.LayerContents()
			if n := len(d.layers); n > 0 {
				if dl, ok := d.layers[n-1].(gopacket.DecodingLayer); ok && hasDecoder(dl.NextLayerType()) {
					d.failed = dl.NextLayerType()
				}
			}
			return d
		}
		d.layers = append(d.layers, l)
		d.truncated = d.truncated || isTruncated(l)
		switch l.LayerType() {
		case layers.LayerTypeUDP, layers.LayerTypeTCP, layers.LayerTypeSCTP, layers.LayerTypeUDPLite:
			d.tail = l.LayerPayload()
			return d
		}
	}
	if !d.undecodable && len(d.layers) > 0 {
		d.tail = d.layers[len(d.layers)-1].LayerPayload()
	}
	return d
}

// isTruncated reports whether a layer's length field promises more bytes
// than the frame holds.
func isTruncated(l gopacket.Layer) bool {
	switch l := l.(type) {
	case *layers.IPv4:
		return int(l.Length) > len(l.Contents)+len(l.Payload)
	case *layers.IPv6:
		// gopacket decodes a hop-by-hop header with the IPv6 header and
		// leaves it out of Payload.
		n := len(l.Payload)
		if l.HopByHop != nil {
			n += len(l.HopByHop.Contents)
		}
		return l.Length != 0 && int(l.Length) > n
	case *layers.UDP:
		return int(l.Length) > len(l.Contents)+len(l.Payload)
	}
	return false
}

// hasDecoder reports whether gopacket has a decoder for t.
func hasDecoder(t gopacket.LayerType) bool {
	switch t {
	case gopacket.LayerTypeZero, gopacket.LayerTypeDecodeFailure, gopacket.LayerTypePayload:
		return false
	}
	return true
}

// layerName is the SPEC name of a layer type, or gopacket's name in lower
// case.
func layerName(t gopacket.LayerType) string {
	switch t {
	case layers.LayerTypeEthernet:
		return "eth"
	case layers.LayerTypeDot1Q:
		return "vlan"
	case layers.LayerTypeICMPv4:
		return "icmp"
	case layers.LayerTypeICMPv6:
		return "icmp6"
	}
	return strings.ToLower(t.String())
}
