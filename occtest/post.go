package occtest

import (
	"net/http"
	"strconv"
	"strings"
)

// create stores the body as the next member of the collection at the path.
func (s *Store) create(r *http.Request, body []byte) *response {
	obj, err := decodeObject(body)
	if err != nil {
		return badRequest(err)
	}
	coll := strings.TrimSuffix(r.URL.Path, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.nextMember(coll)
	resp := s.apply(p, nil, obj, http.StatusCreated)
	if resp.status == http.StatusCreated {
		resp.header.Set("Location", p)
	} else {
		s.seq[coll]-- // the id was not used after all
	}
	return resp
}

// nextMember hands out the next unused path in collection coll.
func (s *Store) nextMember(coll string) string {
	for {
		s.seq[coll]++
		p := coll + "/" + strconv.FormatInt(s.seq[coll], 10)
		if s.res[p] == nil && s.gone[p] == 0 {
			return p
		}
	}
}
