package PyVirt::Error;

# What every failed PyVirt call dies with: libvirt's virError (code, domain,
# level, message).  ex) eval { $dom->destroy }; print $@->code if ref $@;

use strict;
use warnings;

use overload
    '""'     => \&stringify,
    fallback => 1;

sub code    { $_[0]{code} }
sub domain  { $_[0]{domain} }
sub level   { $_[0]{level} }
sub message { $_[0]{message} }

# The same words as the Go binding's Error().
sub stringify {
    my $self = shift;
    return sprintf("libvirt: code=%d domain=%d: %s", $self->{code}, $self->{domain},
                   $self->{message});
}

1;
