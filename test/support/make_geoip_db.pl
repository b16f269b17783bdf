#!/usr/bin/perl
# Writes a small MaxMind-format (GeoIP2-City layout) database for the tests
# of geolocate(), with Debian's libmaxmind-db-writer-perl.
#
#   perl test/support/make_geoip_db.pl OUTPUT.mmdb
#
# Networks (documentation ranges, so no real address is described):
#   203.0.113.0/24   Canada / Quebec / Montréal
#   2001:db8:1::/48  France / Île-de-France / Paris
#   198.51.100.0/24  Germany, country only (as in a Country database)
# Everything else is in no network.
use strict;
use warnings;
use utf8;

use MaxMind::DB::Writer::Tree;

my $out = shift @ARGV or die "usage: $0 OUTPUT.mmdb\n";

my %types = (
    city         => 'map',
    country      => 'map',
    subdivisions => [ 'array', 'map' ],
    location     => 'map',
    names        => 'map',
    en           => 'utf8_string',
    iso_code     => 'utf8_string',
    latitude     => 'double',
    longitude    => 'double',
);

my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version               => 6,
    record_size              => 24,
    database_type            => 'GeoIP2-City',
    languages                => ['en'],
    description              => { en => 'visittrack test database' },
    remove_reserved_networks => 0,    # the test networks are documentation ranges
    alias_ipv6_to_ipv4       => 1,
    map_key_type_callback    => sub { $types{ $_[0] } },
);

$tree->insert_network('203.0.113.0/24', {
    country      => { iso_code => 'CA', names => { en => 'Canada' } },
    subdivisions => [ { iso_code => 'QC', names => { en => 'Quebec' } } ],
    city         => { names => { en => 'Montréal' } },
    location     => { latitude => 45.5017, longitude => -73.5673 },
});
$tree->insert_network('2001:db8:1::/48', {
    country      => { iso_code => 'FR', names => { en => 'France' } },
    subdivisions => [ { iso_code => 'IDF', names => { en => 'Île-de-France' } } ],
    city         => { names => { en => 'Paris' } },
    location     => { latitude => 48.8566, longitude => 2.3522 },
});
$tree->insert_network('198.51.100.0/24', {
    country => { iso_code => 'DE', names => { en => 'Germany' } },
});

open my $fh, '>:raw', $out or die "cannot write $out: $!\n";
$tree->write_tree($fh);
close $fh or die "cannot write $out: $!\n";
